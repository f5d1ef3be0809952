import PrescoreCLI

Prescore.main()
