from perptui.cli import main

raise SystemExit(main())
