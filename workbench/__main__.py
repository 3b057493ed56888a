from workbench.launcher import main

main()
