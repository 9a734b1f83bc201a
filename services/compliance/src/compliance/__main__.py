"""`python -m compliance`: runs the compliance service until SIGTERM or Ctrl-C."""

from compliance.bootstrap import DEFAULT_PORT, NAME, run
from infra.runtime import main as run_main


def main() -> None:
    run_main(NAME, DEFAULT_PORT, run)


if __name__ == "__main__":
    main()
