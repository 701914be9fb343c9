"""`python -m tests.jobs.enqueue_job <task> <json args>`: enqueue one of tests/jobs/worker_jobs.py in the
database named by DATABASE_URL and print the job's id."""

import json
import sys

import django

if __name__ == "__main__":
    django.setup()
    from tests.jobs import worker_jobs

    job = getattr(worker_jobs, sys.argv[1])
    print(job.enqueue(*json.loads(sys.argv[2])).id)
