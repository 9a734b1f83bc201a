"""`python -m supervision`: runs the supervision service until SIGTERM or Ctrl-C."""

from infra.runtime import main as run_main
from supervision.bootstrap import DEFAULT_PORT, NAME, run


def main() -> None:
    run_main(NAME, DEFAULT_PORT, run)


if __name__ == "__main__":
    main()
