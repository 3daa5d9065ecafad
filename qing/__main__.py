from qing.cli import main

if __name__ == "__main__":  # not on import: export's worker processes import __main__
    main()
