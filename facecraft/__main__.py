from facecraft.cli.main import main

raise SystemExit(main())
