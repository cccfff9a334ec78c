"""`python -m evals.knowledge [--json] [--misses] [--database-url URL]`."""

import argparse

from cli.console import console
from db.engine import create_db_engine
from evals.knowledge.runner import (
    as_json,
    demo_articles_engine,
    evaluate,
    load_queries,
    print_report,
)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m evals.knowledge", description=__doc__)
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    parser.add_argument("--misses", action="store_true", help="List queries not answered at 3.")
    parser.add_argument("--database-url", help="Search this database instead of the demo set.")
    args = parser.parse_args()
    engine = create_db_engine(args.database_url) if args.database_url else demo_articles_engine()
    results = evaluate(engine, load_queries())
    if args.json:
        print(as_json(results))
    else:
        print_report(results, console, show_misses=args.misses)


main()
