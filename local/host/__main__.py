from local.host.serve import main

main()
