from ssas_deploy.cli.app import main

main()
