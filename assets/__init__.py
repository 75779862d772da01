"""Icon sources. A package only so that one lookup (agent.paths.asset_path) finds them in a
source checkout, an installed wheel and a frozen bundle alike."""
