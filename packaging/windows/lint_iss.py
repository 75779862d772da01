"""A structural check of an Inno Setup script, for machines without the compiler.

It checks what breaks a build or an install most often: unknown sections, missing [Setup]
keys, entries that are not `Name: value;` pairs or lack their required parameters, unbalanced
quotes and #if/#endif, undefined {#Name} references, and Tasks: that name no task. The real
compile (`iscc`) runs on the Windows runner.

    python packaging/windows/lint_iss.py packaging/windows/traycourier.iss
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SECTIONS = {
    "Setup",
    "Tasks",
    "Files",
    "Icons",
    "Registry",
    "Run",
    "UninstallRun",
    "UninstallDelete",
    "Dirs",
    "INI",
    "InstallDelete",
    "Languages",
    "Messages",
    "CustomMessages",
    "Code",
    "Types",
    "Components",
}
REQUIRED_SETUP = {
    "AppId",
    "AppName",
    "AppVersion",
    "DefaultDirName",
    "PrivilegesRequired",
    "OutputBaseFilename",
}
REQUIRED_PARAMS = {
    "Tasks": {"Name", "Description"},
    "Files": {"Source", "DestDir"},
    "Icons": {"Name", "Filename"},
    "Registry": {"Root", "Subkey"},
    "Run": {"Filename"},
    "UninstallRun": {"Filename", "RunOnceId"},
    "UninstallDelete": {"Type", "Name"},
}
_PARAM = re.compile(r'\s*([A-Za-z]+):\s*("(?:[^"]|"")*"|[^;]*?)\s*(?:;|$)')


def split_params(line: str) -> dict[str, str] | None:
    """`Name: "a"; Flags: b` -> {"Name": '"a"', "Flags": "b"}; None when it does not parse."""
    params: dict[str, str] = {}
    pos = 0
    while pos < len(line):
        match = _PARAM.match(line, pos)
        if not match or match.end() == pos:
            return None
        params[match.group(1)] = match.group(2)
        pos = match.end()
    return params


def lint(text: str) -> list[str]:
    problems: list[str] = []
    defines = set(re.findall(r"^\s*#define\s+(\w+)", text, re.M))
    for name in re.findall(r"\{#(\w+)\}", text):
        if name not in defines:
            problems.append(f"{{#{name}}} is never #defined")
    depth = 0
    section = None
    setup: dict[str, str] = {}
    tasks: set[str] = set()
    used_tasks: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith("#"):
            if re.match(r"#(if|ifdef|ifndef)\b", line):
                depth += 1
            elif line.startswith("#endif"):
                depth -= 1
                if depth < 0:
                    problems.append(f"line {number}: #endif without #if")
            continue
        header = re.fullmatch(r"\[(\w+)\]", line)
        if header:
            section = header.group(1)
            if section not in SECTIONS:
                problems.append(f"line {number}: unknown section [{section}]")
            continue
        if section is None:
            problems.append(f"line {number}: text before the first section")
            continue
        if section == "Code":
            continue
        if line.count('"') % 2:
            problems.append(f"line {number}: unbalanced quotes")
            continue
        if section == "Setup":
            key, sep, value = line.partition("=")
            if not sep:
                problems.append(f"line {number}: [Setup] lines are Key=Value")
            setup[key.strip()] = value.strip()
            continue
        params = split_params(line)
        if params is None:
            problems.append(f"line {number}: not a list of Name: value; pairs")
            continue
        missing = REQUIRED_PARAMS.get(section, set()) - set(params)
        if missing:
            problems.append(f"line {number}: [{section}] entry lacks {', '.join(sorted(missing))}")
        if section == "Tasks" and "Name" in params:
            tasks.add(params["Name"].strip('"'))
        if "Tasks" in params:
            used_tasks.append((number, params["Tasks"].strip('"')))
    if depth:
        problems.append("#if without #endif")
    for key in sorted(REQUIRED_SETUP - set(setup)):
        problems.append(f"[Setup] lacks {key}")
    if setup.get("PrivilegesRequired") not in (None, "lowest"):
        problems.append("PrivilegesRequired must be lowest (a per-user install)")
    for number, task in used_tasks:
        if task not in tasks:
            problems.append(f"line {number}: Tasks: {task} is not defined in [Tasks]")
    return problems


def main() -> int:
    problems = lint(Path(sys.argv[1]).read_text(encoding="utf-8"))
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
