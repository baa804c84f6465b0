from calcat_git.demo.replay import main

main()
