from facecraft.cli.main import console

raise SystemExit(console())
