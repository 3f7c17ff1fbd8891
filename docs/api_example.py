"""Search MIRAGE and save the best result into a new study set, with the standard library only.

    MIRAGE_URL=http://localhost:8000 MIRAGE_TOKEN=mrg_… python docs/api_example.py

Create the token on the "API tokens" page (/accounts/tokens/).
"""

import json
import os
import urllib.parse
import urllib.request

BASE = os.environ["MIRAGE_URL"].rstrip("/")
HEADERS = {"Authorization": f"Bearer {os.environ['MIRAGE_TOKEN']}", "Accept": "application/json"}


def call(method, path, body=None):
    """One API request; returns the decoded JSON answer (errors raise urllib.error.HTTPError)."""
    data = None if body is None else json.dumps(body).encode()
    headers = HEADERS if body is None else {**HEADERS, "Content-Type": "application/json"}
    request = urllib.request.Request(BASE + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


results = call("GET", "/api/search/?" + urllib.parse.urlencode({"q": "chest x-ray", "k": 5}))
for hit in results["hits"]:
    image = hit["image"]
    print(f"{hit['score']:.2f}  #{image['id']}  {image['caption'][:70]}  [{image['licence']}]")
if not results["hits"]:
    raise SystemExit("No results: is the corpus loaded and embedded?")

studyset = call("POST", "/api/studysets/", {"title": "Chest X-rays", "description": "Saved by a script."})
print(f"Created study set #{studyset['id']}: {studyset['page_url']}")

best = results["hits"][0]["image"]
item = call(
    "POST",
    f"/api/studysets/{studyset['id']}/items/",
    {"image": best["id"], "note": "Top hit for 'chest x-ray'; check the licence before reuse."},
)
print(f"Saved image #{item['image']['id']} at place {item['place']} with the note: {item['note']}")
