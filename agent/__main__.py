from traycourier.agent.cli import main

raise SystemExit(main())
