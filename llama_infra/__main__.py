"""`python -m llama_infra`: the same command line as `llama-infra`."""

from llama_infra.cli import main

main()
