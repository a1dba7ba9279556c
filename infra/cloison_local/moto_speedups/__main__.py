"""`python -m cloison_local.moto_speedups`: moto's server with the speed-ups applied."""

from cloison_local.moto_speedups import main

if __name__ == "__main__":
    main()
