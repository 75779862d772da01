from traycourier.agent.cli.main import main

raise SystemExit(main())
