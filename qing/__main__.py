from qing.cli import main

main()
