; Inno Setup script: a per-user install (no admin), a Start-menu shortcut (Windows attributes
; toasts to the app through it), optional start at login, and an uninstaller that removes
; everything but the user's database.
;   iscc /DMyAppVersion=0.1.0 /DSrcDir=build\dist\traycourier packaging\windows\traycourier.iss
#ifndef MyAppVersion
  #define MyAppVersion "0.1.0"
#endif
#ifndef SrcDir
  #define SrcDir "..\..\build\dist\traycourier"
#endif
#define MyAppName "traycourier"
#define MyAppExe "traycourier.exe"

[Setup]
AppId={{6B1E2C41-7A0D-4C1B-9B8E-2F6D3C5A9E17}
AppName={#MyAppName}
AppVersion={#MyAppVersion}
AppPublisher=traycourier authors
DefaultDirName={localappdata}\Programs\{#MyAppName}
DefaultGroupName={#MyAppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\build
OutputBaseFilename=traycourier-{#MyAppVersion}-setup
SetupIconFile=..\..\build\icons\traycourier.ico
UninstallDisplayIcon={app}\{#MyAppExe}
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Tasks]
Name: "autostart"; Description: "Start traycourier when I sign in"; Flags: unchecked

[Files]
Source: "{#SrcDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{userprograms}\{#MyAppName}"; Filename: "{app}\{#MyAppExe}"; Parameters: "run"; AppUserModelID: "traycourier"

[Registry]
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "{#MyAppName}"; ValueData: """{app}\{#MyAppExe}"" ""run"""; Flags: uninsdeletevalue; Tasks: autostart

[Run]
Filename: "{app}\{#MyAppExe}"; Parameters: "run"; Description: "Start traycourier now"; Flags: nowait postinstall skipifsilent

[UninstallRun]
Filename: "{sys}\taskkill.exe"; Parameters: "/F /IM {#MyAppExe}"; Flags: runhidden; RunOnceId: "StopTraycourier"

[UninstallDelete]
; the program folder only: the user's database lives in %LOCALAPPDATA%\traycourier and stays
Type: filesandordirs; Name: "{app}"
