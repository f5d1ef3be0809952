import PrescoreCLI

await Prescore.main()
