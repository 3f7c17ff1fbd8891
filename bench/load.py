"""Load: concurrent clients against the production set-up on loopback, then a check that every write the
server acknowledged is in the database.

    .venv/bin/python bench/load.py            # 32 clients for 60 s
    .venv/bin/python bench/load.py --quick    # 8 clients (4 students) for 5 s

A throw-away installation in a temporary folder (its own embedded PostgreSQL and media): migrate, a small
corpus with caption embeddings, an instructor's published quiz, one study set and API token per student.
Then `python -m mirage_site.serve` (gunicorn + the django-q2 worker, as `make run` starts them) on a free
port, and locust (https://locust.io) drives half the clients as anonymous visitors (search page, search
API, image pages, thumbnails) and half as students through the API (add to, reorder and remove from their
own study set; start and hand in quiz attempts). Each student keeps its own log of what the server
acknowledged; afterwards every study set's items (in order) and every handed-in attempt's score are
compared with those logs, read from the database.

The API's search throttles are raised for the run (the clients all come from 127.0.0.1), and the output
says so. Prints a table per request kind: count, failures, p50/p95 latency, throughput.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import gevent
import locust  # noqa: F401  (first: locust patches the standard library for gevent on import)
import numpy as np
from locust import HttpUser, between, task
from locust.env import Environment
from PIL import Image as PILImage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from apps.operations.instance import Instance  # noqa: E402

THROTTLES = {
    "MIRAGE_THROTTLE_SEARCH_ANON": "1000000/min",
    "MIRAGE_THROTTLE_SEARCH_USER": "1000000/min",
}
MODALITIES = [
    ("Chest X-ray", "showing a right pneumothorax"),
    ("Axial CT of the abdomen", "with free fluid"),
    ("Sagittal MRI of the knee", "showing an ACL tear"),
    ("Ultrasound of the liver", "with a hyperechoic lesion"),
    ("Axial CT of the brain", "with an acute subdural haematoma"),
    ("Radiograph of the wrist", "showing a distal radius fracture"),
]
QUERIES = [
    "chest x-ray pneumothorax",
    "knee mri",
    "liver ultrasound lesion",
    "brain ct bleed",
    "fracture",
    "ct",
]
IMAGES = 60
STUDENTS = 32
SET_MAX = 10  # a student's set grows to this many items, then writes shrink it

# Migrate, import, embed and the accounts in one process (each `manage.py` start costs seconds).
SETUP = """
import json
from django.core.management import call_command
call_command("migrate", "--noinput", verbosity=0)
call_command("createcachetable")
from apps.accounts.models import User
from apps.core.tokens import api_token_create
from apps.corpus.models import Image
from apps.quizzes.models import Quiz
from apps.quizzes.services import quiz_build_from_studyset, quiz_join, quiz_publish
from apps.studysets.models import StudySet
from apps.studysets.services import studyset_add_image, studyset_create

call_command("import_folder", %(corpus)r, "--captions", %(captions)r)
call_command("embed", "--space", "caption")
images = list(Image.objects.order_by("pk").values_list("pk", flat=True))
teacher = User.objects.create_user(username="teacher", role="instructor")
source = studyset_create(owner=teacher, title="Quiz source", visibility=StudySet.PUBLIC)
for pk in images[:6]:
    studyset_add_image(studyset=source, user=teacher, image_id=pk)
quiz = quiz_build_from_studyset(instructor=teacher, studyset=source)
Quiz.objects.filter(pk=quiz.pk).update(attempts_allowed=30000)
quiz = quiz_publish(quiz=Quiz.objects.get(pk=quiz.pk))
students = []
for n in range(%(students)d):
    user = User.objects.create_user(username=f"student{n}")
    quiz_join(user=user, code=quiz.join_code)
    own = studyset_create(owner=user, title=f"Set of student {n}")
    _, token = api_token_create(user=user, name="load")
    students.append({"token": token, "studyset": own.pk})
print(json.dumps({"images": images, "quiz": quiz.pk, "students": students}))
"""

VERIFY = """
import json
from apps.quizzes.models import Attempt
from apps.studysets.models import StudySetItem
sets = {}
items = StudySetItem.objects.order_by("studyset_id", "position")
for studyset, image in items.values_list("studyset_id", "image_id"):
    sets.setdefault(str(studyset), []).append(image)
handed_in = Attempt.objects.filter(submitted_at__isnull=False)
attempts = {str(pk): score for pk, score in handed_in.values_list("pk", "score")}
print(json.dumps({"sets": sets, "attempts": attempts}))
"""


def build_corpus(folder: Path) -> Path:
    rng = np.random.default_rng(1)
    rows = []
    for n in range(IMAGES):
        name, finding = MODALITIES[n % len(MODALITIES)]
        path = folder / f"case-{n:03d}.png"
        PILImage.fromarray(rng.integers(0, 256, size=(96, 96, 3), dtype=np.uint8)).save(path)
        rows.append({"file": path.name, "caption": f"{name} {finding}, case {n}.", "licence": "CC BY"})
    captions = folder / "captions.jsonl"
    captions.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return captions


class Shared:
    """What the clients share: the set-up and the students' logs of acknowledged writes."""

    setup: dict = {}
    free_students: list[dict] = []
    logs: list[dict] = []
    # At the end no new task starts and the writes in flight are let finish, so that every write a
    # client sent is either acknowledged or refused, never cut off in the middle.
    stopping = False
    in_flight = 0


def unless_stopping(method):
    """Start the task only while the run lasts; count it as in flight until its responses are in."""

    def run(self, *args, **kwargs):
        if Shared.stopping:
            return None
        Shared.in_flight += 1
        try:
            return method(self, *args, **kwargs)
        finally:
            Shared.in_flight -= 1

    run.__name__ = method.__name__
    return run


class Visitor(HttpUser):
    """Anonymous: search page, search API, image pages, thumbnails."""

    wait_time = between(0.1, 0.5)

    @task(3)
    @unless_stopping
    def search_page(self):
        self.client.get("/", params={"q": random.choice(QUERIES)}, name="page: search")

    @task(2)
    @unless_stopping
    def search_api(self):
        self.client.get("/api/search/", params={"q": random.choice(QUERIES), "k": 10}, name="api: search")

    @task(3)
    @unless_stopping
    def image_page(self):
        self.client.get(f"/images/{random.choice(Shared.setup['images'])}/", name="page: image")

    @task(1)
    @unless_stopping
    def image_json(self):
        self.client.get(f"/api/images/{random.choice(Shared.setup['images'])}/", name="api: image")


class Student(HttpUser):
    """Logged in (API token): writes to their own study set, takes the quiz. Logs what was acknowledged."""

    wait_time = between(0.1, 0.5)

    def on_start(self):
        me = Shared.free_students.pop()
        self.client.headers["Authorization"] = f"Bearer {me['token']}"
        self.set_url = f"/api/studysets/{me['studyset']}/items/"
        # The client's own record: [item id, image id] in order; attempts it saw graded.
        self.log = {"studyset": me["studyset"], "items": [], "attempts": {}, "uncertain": False, "writes": 0}
        Shared.logs.append(self.log)

    def _ok(self, response, *codes: int) -> bool:
        if response.status_code in codes:
            self.log["writes"] += 1
            return True
        # Not acknowledged: the server may or may not have done it, so this set is not compared.
        self.log["uncertain"] = True
        return False

    @task(3)
    @unless_stopping
    def add(self):
        items = self.log["items"]
        if len(items) >= SET_MAX:
            return self.remove()
        present = {image for _, image in items}
        image = random.choice([i for i in Shared.setup["images"] if i not in present])
        with self.client.post(
            self.set_url,
            json={"image": image, "note": f"note {image}"},
            name="api: set add",
            catch_response=True,
        ) as response:
            if self._ok(response, 201):
                items.append([response.json()["id"], image])

    @task(2)
    @unless_stopping
    def move(self):
        items = self.log["items"]
        if not items:
            return self.add()
        index = random.randrange(len(items))
        up = random.random() < 0.5
        url = f"{self.set_url}{items[index][0]}/move/"
        with self.client.post(
            url, json={"direction": "up" if up else "down"}, name="api: set reorder", catch_response=True
        ) as response:
            if self._ok(response, 200):
                other = index - 1 if up else index + 1
                if 0 <= other < len(items):
                    items[index], items[other] = items[other], items[index]

    @task(1)
    @unless_stopping
    def remove(self):
        items = self.log["items"]
        if not items:
            return self.add()
        index = random.randrange(len(items))
        url = f"{self.set_url}{items[index][0]}/"
        with self.client.delete(url, name="api: set remove", catch_response=True) as response:
            if self._ok(response, 204):
                items.pop(index)

    @task(1)
    @unless_stopping
    def quiz_attempt(self):
        quiz = Shared.setup["quiz"]
        with self.client.post(
            f"/api/quizzes/{quiz}/attempts/", name="api: quiz start", catch_response=True
        ) as r:
            if not self._ok(r, 201, 200):
                return
            attempt = r.json()
        answers = [
            {"question": q["id"], "option": random.choice(q["options"])["id"]} for q in attempt["questions"]
        ]
        with self.client.post(
            f"/api/quizzes/attempts/{attempt['id']}/submit/",
            json={"answers": answers},
            name="api: quiz submit",
            catch_response=True,
        ) as r:
            if self._ok(r, 200):
                self.log["attempts"][str(attempt["id"])] = r.json()["score"]


def percentile(entry, p: float) -> float:
    return entry.get_response_time_percentile(p) if entry.num_requests else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="8 clients (4 students) for 5 s")
    parser.add_argument("--clients", type=int)
    parser.add_argument("--seconds", type=int)
    args = parser.parse_args()
    clients = args.clients or (8 if args.quick else 32)
    seconds = args.seconds or (5 if args.quick else 60)
    students = 4 if args.quick else STUDENTS  # each one's account, study set and token is set up first
    if clients > 2 * students:
        parser.error(f"at most {2 * students} clients")

    server_errors: dict[str, int] = {}
    root = Path(tempfile.mkdtemp(prefix="mirage-load-"))
    instance = Instance(root / "mirage", **THROTTLES)
    try:
        started = time.monotonic()
        print(f"setting up a throw-away installation in {root} …", flush=True)
        corpus = root / "corpus"
        corpus.mkdir()
        captions = build_corpus(corpus)
        setup = SETUP % {"students": students, "corpus": str(corpus), "captions": str(captions)}
        Shared.setup = json.loads(instance.shell(setup).strip().splitlines()[-1])
        Shared.free_students = list(Shared.setup["students"])
        instance.serve()
        # Each web worker loads the query encoder on its first search: do that before the clock starts
        # (several at once, so that every worker gets one), until searches come back quickly.
        for _ in range(5):
            warm = [gevent.spawn(instance.get, "/?q=warm+up", timeout=300) for _ in range(6)]
            gevent.joinall(warm)
            tick = time.monotonic()
            answered = all(g.value and g.value[0] == 200 for g in warm) and instance.get("/?q=warm")[0] == 200
            if answered and time.monotonic() - tick < 2:
                break
        print(f"set up in {time.monotonic() - started:.0f} s; serving at {instance.url}", flush=True)
        print(
            "Throttles raised for this benchmark (all clients share 127.0.0.1): "
            + ", ".join(f"{k}={v}" for k, v in THROTTLES.items()),
            flush=True,
        )

        students = clients // 2
        Student.fixed_count = students
        env = Environment(user_classes=[Visitor, Student], host=instance.url)

        def count_5xx(name, response=None, **kwargs):
            if response is not None and getattr(response, "status_code", 0) >= 500:
                server_errors[name] = server_errors.get(name, 0) + 1

        env.events.request.add_listener(count_5xx)
        runner = env.create_local_runner()
        print(f"{clients} clients ({clients - students} anonymous, {students} students) for {seconds} s …")
        runner.start(clients, spawn_rate=clients)
        gevent.sleep(seconds)
        Shared.stopping = True
        drain = time.monotonic() + 120
        while Shared.in_flight and time.monotonic() < drain:
            gevent.sleep(0.05)
        runner.quit()
        stats = env.stats

        verify = json.loads(instance.shell(VERIFY).strip().splitlines()[-1])
    finally:
        instance.close()
        shutil.rmtree(root, ignore_errors=True)

    print()
    print("| request | count | failures | 5xx | p50 ms | p95 ms | req/s |")
    print("|---|---|---|---|---|---|---|")
    for name in sorted(stats.entries, key=lambda key: key[0]):
        entry = stats.entries[name]
        print(
            f"| {name[0]} | {entry.num_requests} | {entry.num_failures} | {server_errors.get(name[0], 0)} "
            f"| {percentile(entry, 0.5):.0f} | {percentile(entry, 0.95):.0f} | {entry.total_rps:.1f} |"
        )
    total = stats.total
    print(
        f"| **all** | {total.num_requests} | {total.num_failures} | {sum(server_errors.values())} "
        f"| {percentile(total, 0.5):.0f} | {percentile(total, 0.95):.0f} | {total.total_rps:.1f} |"
    )
    for error in stats.errors.values():
        print(f"  error: {error.method} {error.name}: {error.error} ×{error.occurrences}")

    # Every acknowledged write is in the database.
    compared = [log for log in Shared.logs if not log["uncertain"]]
    mismatched_sets = [
        log["studyset"]
        for log in compared
        if verify["sets"].get(str(log["studyset"]), []) != [image for _, image in log["items"]]
    ]
    acknowledged_attempts = {pk: score for log in Shared.logs for pk, score in log["attempts"].items()}
    mismatched_attempts = [
        pk for pk, score in acknowledged_attempts.items() if verify["attempts"].get(pk) != score
    ]
    writes = sum(log["writes"] for log in Shared.logs)
    items = sum(len(log["items"]) for log in compared)
    print()
    print(
        f"acknowledged writes: {writes}; study sets compared {len(compared)}/{len(Shared.logs)} "
        f"({items} items, in order): {len(mismatched_sets)} differ; "
        f"handed-in attempts {len(acknowledged_attempts)}: {len(mismatched_attempts)} differ"
    )
    for log in [log for log in compared if log["studyset"] in mismatched_sets][:3]:
        print(
            f"  set {log['studyset']}: clients saw {[image for _, image in log['items']]}, "
            f"database holds {verify['sets'].get(str(log['studyset']), [])}"
        )
    ok = (
        not server_errors
        and not mismatched_sets
        and not mismatched_attempts
        and len(compared) == len(Shared.logs)
    )
    print("RESULT:", "no 5xx, every acknowledged write is in the database" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
