from calcat_git.cli.main import main

main()
