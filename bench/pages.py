"""Pages and API at 100,000 images, through the production server that `make run` starts.

Fills a database of its own (`mirage_pages_N`, kept for the next run of that size) with N image
rows by COPY: captions are the real ROCO validation/radiology captions (8,180, repeated with a
counter), every row points at the same thumbnail and image file (the pages only link to them), and
the caption space holds each row's caption's real MiniLM vector (384-d) with a little noise, so the
index is searched as on a real corpus (random vectors are HNSW's pathological case). The query
encoder is the real MiniLM. Then starts `python -m mirage_site.serve` on a free loopback port with
MIRAGE_WEB_WORKERS as `make run` uses, rate limits raised through MIRAGE_THROTTLE_* (said in the
output), and drives it with `wrk` (Debian: `apt-get install -y wrk`):

- the search page and the search API (K = 20, the query cache warm): one client p50, 8 clients
  requests/s and p95;
- the image page, a study set page with 500 items (its first page of 100), the quiz results page
  with 200 students and the Django admin's image list (on a second database of `--admin-rows` rows,
  1M by default): one client p50 and p95.

Beside each page: SQL queries per request (Django test client, same database).

    .venv/bin/python bench/pages.py            # 100k rows (+ 1M for the admin)
    .venv/bin/python bench/pages.py --quick    # 2,000 rows (the admin's list too), 1 s per measure
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from common import ROCO, ROOT, bench_database

QUERY = "chest x-ray with pneumothorax"
RAISED = "100000/min"
THROTTLE_ENV = {
    f"MIRAGE_THROTTLE_{scope}_{who}": RAISED
    for scope in ("SEARCH", "IMAGE_SEARCH")
    for who in ("USER", "ANON")
}
MODALITIES = ["xray", "ct", "mri", "ultrasound", "angiography", "other"]
LICENCES = [("CC BY", "cc-by"), ("CC BY-NC", "cc-by-nc"), ("NO-CC CODE", "none")]
LUA = """
done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"requests\\": %d, \\"seconds\\": %f, \\"p50\\": %f, "
    .. "\\"p95\\": %f, \\"non2xx\\": %d}\\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.errors.status))
end
"""


def captions() -> list[str]:
    lines = (ROCO / "captions.txt").read_text(encoding="utf-8").splitlines()
    return [line.split("\t", 1)[1].strip() for line in lines if "\t" in line]


def fill_images(rows: int, *, slug: str) -> None:
    """COPY `rows` image rows (the generated tsvector and indexes are maintained by PostgreSQL)."""
    from django.db import connection

    from apps.corpus.models import Dataset

    dataset, _ = Dataset.objects.get_or_create(slug=slug, defaults={"name": f"Benchmark {slug}"})
    texts = captions()
    columns = (
        "dataset_id, external_id, split, category, file, thumbnail, width, height, format, image_name, "
        "caption, keywords, cuis, semtypes, modality, licence_raw, licence, attribution, pmc_id, "
        "article_url, source_url, is_synthetic, moderation_state, moderation_reason, created_at, updated_at"
    )
    now = "2026-01-01 00:00:00+00"
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY corpus_image ({columns}) FROM STDIN") as copy,
    ):
        for i in range(rows):
            licence_raw, licence = LICENCES[i % len(LICENCES)]
            copy.write_row(
                (
                    dataset.pk, f"BENCH_{i:07d}", "validation", "radiology",
                    "images/bench.png", "thumbs/bench.png", 512, 512, "PNG", f"bench_{i}.png",
                    f"{texts[i % len(texts)]} ({i})", "{chest,x-ray}", "{C0024109}",
                    '[["T060", "Diagnostic Procedure"]]', MODALITIES[i % len(MODALITIES)],
                    licence_raw, licence, "", f"PMC{1000000 + i}",
                    f"https://www.ncbi.nlm.nih.gov/pmc/articles/PMC{1000000 + i}/", "",
                    False, "approved", "", now, now,
                )
            )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE corpus_image")


def fill_caption_space() -> None:
    """Every image's caption vector in the caption space (the platform's COPY), then its index: the real
    MiniLM embedding of its ROCO caption (bench/vector_search.py's cache), with a little noise so the
    copies of one caption are near, not equal (random vectors would be HNSW's pathological case)."""
    import numpy as np
    from vector_search import caption_vectors

    from apps.corpus.embeddings import _copy_vectors, ensure_index, space_for
    from apps.corpus.models import Image
    from apps.corpus.spaces import CAPTION, configured_spaces
    from apps.ml.encoders import load_encoder

    config = configured_spaces()[CAPTION]
    space = space_for(config, load_encoder(config.model))
    ids = list(Image.objects.order_by("pk").values_list("pk", flat=True))
    real = caption_vectors(limit=min(len(ids), len(captions())))  # row i holds caption i mod their number
    rng = np.random.default_rng(0)
    for start in range(0, len(ids), 10_000):
        chunk = ids[start : start + 10_000]
        vectors = real[np.arange(start, start + len(chunk)) % len(real)]
        vectors = vectors + rng.normal(0, 0.05 / np.sqrt(space.dim), vectors.shape).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        _copy_vectors(space, chunk, vectors)
    ensure_index(space)


def fill_learning() -> dict[str, int]:
    """An instructor's study set of 500 items and a published quiz from it taken by 200 students."""
    from django.contrib.auth import get_user_model

    from apps.corpus.models import Image
    from apps.quizzes.services import attempt_start, quiz_build_from_studyset, quiz_publish, quiz_submit
    from apps.studysets.models import StudySetItem
    from apps.studysets.services import studyset_create

    User = get_user_model()
    teacher = User.objects.create_user("bench-teacher", password="x", role="instructor")
    User.objects.create_superuser("bench-admin", password="x")
    studyset = studyset_create(owner=teacher, title="Five hundred images")
    ids = list(Image.objects.order_by("pk").values_list("pk", flat=True)[:500])
    StudySetItem.objects.bulk_create(
        StudySetItem(studyset=studyset, image_id=pk, position=i) for i, pk in enumerate(ids)
    )
    quiz = quiz_publish(quiz=quiz_build_from_studyset(instructor=teacher, studyset=studyset, count=20))
    students = User.objects.bulk_create(User(username=f"bench-student-{i}") for i in range(200))
    for student in students:
        attempt = attempt_start(quiz=quiz, user=student)
        first = {q: None for q in attempt.question_ids}
        quiz_submit(attempt=attempt, answers=first)
    return {"studyset": studyset.pk, "quiz": quiz.pk, "image": ids[0]}


def session_cookie(username: str) -> str:
    from django.test import Client

    client = Client()
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=username))
    return f"sessionid={client.cookies['sessionid'].value}"


def queries_per_request(path: str, username: str | None) -> int:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    if username:
        client.force_login(get_user_model().objects.get(username=username))
    client.get(path)  # warm: encoders, caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(captured)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wrk(url: str, *, clients: int, seconds: int, cookie: str = "") -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA)
    command = ["wrk", "-t", str(min(clients, 2)), "-c", str(clients), "-d", f"{seconds}s", "-s", script.name]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    result = json.loads(re.search(r"^JSON (.*)$", out, re.M).group(1))
    result["rps"] = result["requests"] / result["seconds"]
    if result["non2xx"]:
        raise SystemExit(f"{url}: {result['non2xx']} answers were not 2xx/3xx")
    return result


def serve(port: int, database: str) -> subprocess.Popen:
    env = {
        **os.environ,
        **THROTTLE_ENV,
        "MIRAGE_DB_NAME": database,
        "MIRAGE_PORT": str(port),
        "MIRAGE_DEBUG": "0",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "mirage_site.serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
            return server
        except OSError:
            time.sleep(0.5)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit("the server did not answer within 300 s")


def stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def prepare(database: str, rows: int, *, learning: bool, fresh: bool) -> dict[str, int] | None:
    """The database `database` holding `rows` images (filled once, reused by later runs)."""
    bench_database(database, fresh=fresh)
    import django
    from django.core.management import call_command

    django.setup()
    from django.db import connections

    from apps.corpus.models import Image

    connections.close_all()  # settings were read for the first database of this run
    connections["default"].settings_dict["NAME"] = database

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    have = Image.objects.count()
    if have != rows:
        if have:
            connections.close_all()
            bench_database(database, fresh=True)
            call_command("migrate", verbosity=0)
            call_command("createcachetable", verbosity=0)
        started = time.perf_counter()
        fill_images(rows, slug="bench")
        took = time.perf_counter() - started
        print(f"filled {rows:,} image rows by COPY in {took:.1f} s ({rows / took:,.0f} rows/s)")
        if learning:
            started = time.perf_counter()
            fill_caption_space()
            print(
                f"caption space: {rows:,} MiniLM caption vectors + HNSW index "
                f"in {time.perf_counter() - started:.1f} s"
            )
            fill_learning()
    from apps.corpus.selectors import corpus_counts

    corpus_counts()  # what a search page shows, cached as after an import
    if not learning:
        return None
    from apps.quizzes.models import Quiz
    from apps.studysets.models import StudySet

    return {
        "studyset": StudySet.objects.get(title="Five hundred images").pk,
        "quiz": Quiz.objects.get().pk,
        "image": Image.objects.order_by("pk").values_list("pk", flat=True).first(),
    }


def admin_pages(rows: int) -> dict[str, tuple[str, str]]:
    """The Django admin's image list, plain and filtered, as a superuser (created when missing)."""
    from django.contrib.auth import get_user_model

    if not get_user_model().objects.filter(username="bench-admin").exists():
        get_user_model().objects.create_superuser("bench-admin", password="x")
    return {
        f"admin image list, {rows:,} rows": ("/admin/corpus/image/", "bench-admin"),
        f"admin image list, modality filter, {rows:,} rows": (
            "/admin/corpus/image/?modality__exact=ct",
            "bench-admin",
        ),
    }


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    print(f"\n{title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(" --- " for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="2,000 rows (the admin's too), 1 s runs")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--admin-rows", type=int, default=None)
    parser.add_argument("--fresh", action="store_true", help="drop and refill the benchmark databases")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    rows = args.rows or (2_000 if args.quick else 100_000)
    admin_rows = args.admin_rows or (rows if args.quick else 1_000_000)
    seconds = 1 if args.quick else 10
    workers = os.environ.get("MIRAGE_WEB_WORKERS", "2")

    # This process's own requests (the SQL query counts) go past the raised rate limits too, so that
    # runs in a row are not refused.
    os.environ.update(THROTTLE_ENV)
    # One database per size, so that the quick run and the full one do not refill each other's.
    database = f"mirage_pages_{rows}"
    ids = prepare(database, rows, learning=True, fresh=args.fresh)
    # The admin's million rows get a database (and a server) of their own; at the same size, the same.
    admin_db = database if admin_rows == rows else f"mirage_pages_admin_{admin_rows}"

    from django.db import connections

    print(
        f"\nServer: python -m mirage_site.serve (gunicorn, MIRAGE_WEB_WORKERS={workers}, as `make run`), "
        f"{os.cpu_count()} CPU cores shared with wrk. Rate limits raised for the benchmark: "
        + ", ".join(f"{k}={v}" for k, v in THROTTLE_ENV.items())
    )
    search_path = f"/?q={QUERY.replace(' ', '+')}&k=20"
    api_path = f"/api/search/?q={QUERY.replace(' ', '+')}&k=20"
    pages = {
        "image page": (f"/images/{ids['image']}/", None),
        "study set of 500 items (its first page)": (f"/studysets/{ids['studyset']}/", "bench-teacher"),
        "quiz results, 200 students": (f"/quizzes/{ids['quiz']}/results/", "bench-teacher"),
    }
    if admin_db == database:
        pages |= admin_pages(admin_rows)
    query_counts = {name: queries_per_request(path, user) for name, (path, user) in pages.items()}
    query_counts["search page"] = queries_per_request(search_path, None)
    query_counts["search API"] = queries_per_request(api_path, None)
    cookies = {user: session_cookie(user) for user in {user for _, user in pages.values() if user}}
    connections.close_all()

    port = free_port()
    server = serve(port, database)
    base = f"http://127.0.0.1:{port}"
    try:
        for path in (search_path, api_path):  # warm every worker's encoder and query cache
            for _ in range(int(workers) * 4):
                urllib.request.urlopen(base + path, timeout=60).read()
        search_rows = []
        for name, path in (("search page", search_path), ("search API", api_path)):
            one = wrk(base + path, clients=1, seconds=seconds)
            eight = wrk(base + path, clients=8, seconds=seconds)
            search_rows.append(
                [
                    name, f"{one['p50']:.1f}", f"{eight['rps']:.0f}", f"{eight['p95']:.1f}",
                    str(query_counts[name]),
                ]
            )  # fmt: skip
        page_rows = []
        for name, (path, user) in pages.items():
            one = wrk(base + path, clients=1, seconds=seconds, cookie=cookies.get(user, ""))
            page_rows.append([name, f"{one['p50']:.1f}", f"{one['p95']:.1f}", str(query_counts[name])])
    finally:
        stop(server)

    table(
        f"Search at {rows:,} images, K = 20, warm query cache "
        "(targets: p50 ≤ 20 ms; 8 clients ≥ 100 req/s, p95 ≤ 100 ms; "
        "anchor: clip-retrieval publishes ≈ 50 ms per query)",
        ["what", "1 client p50 ms", "8 clients req/s", "8 clients p95 ms", "SQL queries"],
        search_rows,
    )

    if admin_db != database:  # the admin's image list on a database of admin_rows rows
        connections.close_all()
        prepare(admin_db, admin_rows, learning=False, fresh=args.fresh)
        paths = admin_pages(admin_rows)
        for name, (path, user) in paths.items():
            query_counts[name] = queries_per_request(path, user)
        cookie = session_cookie("bench-admin")
        connections.close_all()
        server = serve(port, admin_db)
        try:
            for name, (path, _) in paths.items():
                one = wrk(base + path, clients=1, seconds=seconds, cookie=cookie)
                page_rows.append([name, f"{one['p50']:.1f}", f"{one['p95']:.1f}", str(query_counts[name])])
        finally:
            stop(server)
    table(
        f"Other pages at {rows:,} images, one client (target: under 100 ms)",
        ["page", "p50 ms", "p95 ms", "SQL queries"],
        page_rows,
    )


if __name__ == "__main__":
    main()
