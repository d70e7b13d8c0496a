#!/usr/bin/env python3
"""Reads every message of a folder with `mailer read --file --json` and with Python's
`email` package (default policy), and compares what a reader sees: subject, From (name
and address), To, Date, attachment file names and the text body (the HTML body where
there is no plain one).

    tests/compare-with-python.py DIR [--mailer PATH] [--known FILE] [--show N]

Prints one summary line per field (`subject equal 212/215`), then the differences not
listed in the known-differences file (at most N of them, default 20). Each message must
also be read by mailer with exit 0 or a clean 65, within 2 s and 64 MB.

Exit status: 0 when every message is within those bounds and every difference is a
known one; 1 otherwise; 64 on bad arguments. Runs on any folder: a private corpus of
thousands of messages is read the same way (`--known /dev/null` to list every
difference).
"""

import argparse
import email
import email.policy
import email.utils
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import timezone

FIELDS = ["subject", "from", "to", "date", "attachments", "text", "html"]
SECONDS = 2.0
MEGABYTES = 64


def squeezed(text):
    """White space runs as one space, ends trimmed: folding is not a difference."""
    return re.sub(r"\s+", " ", text or "").strip() or None


def body_text(text):
    """LF line ends, trailing white space of lines and of the text dropped."""
    if text is None:
        return None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip() or None


def leaves(part):
    """The parts that are not multiparts, not descending into attached messages."""
    if part.is_multipart() and part.get_content_maintype() == "multipart":
        for sub in part.iter_parts():
            yield from leaves(sub)
    else:
        yield part


def python_view(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)

    def people(name):
        header = msg.get(name)
        try:
            addresses = header.addresses if header is not None else ()
        except Exception:
            return []
        return [
            [squeezed(a.display_name), a.addr_spec or None]
            for a in addresses
        ]

    def header_text(name):
        value = msg.get(name)
        return squeezed(str(value)) if value is not None else None

    date = None
    try:
        parsed = msg["date"].datetime if msg.get("date") is not None else None
        if parsed is not None:
            if parsed.tzinfo is None:  # -0000: "no zone information"
                parsed = parsed.replace(tzinfo=timezone.utc)
            date = parsed.astimezone(timezone.utc).isoformat()
    except Exception:
        date = None

    body = msg.get_body(preferencelist=("plain",))
    text = None
    if body is not None:
        try:
            text = body_text(body.get_content())
        except Exception:
            text = None
    # Without a plain body, the HTML one: mailer shows it rendered and gives it as is.
    html_body = msg.get_body(preferencelist=("html",)) if body is None else None
    html = None
    if html_body is not None:
        try:
            html = body_text(html_body.get_content())
        except Exception:
            html = None
    names = []
    for leaf in leaves(msg):
        if leaf is body or leaf is html_body:
            continue
        try:
            name = leaf.get_filename()
        except Exception:
            name = None
        if name:
            names.append(squeezed(name))
    return {
        "subject": header_text("subject"),
        "from": people("from"),
        "to": people("to"),
        "date": date,
        "attachments": sorted(names),
        "text": text,
        "html": html,
        "_plain": body is not None,
        "_html": html_body is not None,
    }


def mailer_view(mailer, path):
    """mailer's view, its exit status, seconds and peak megabytes."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        child = subprocess.Popen(
            [mailer, "read", "--file", path, "--json"],
            stdout=out,
            stderr=err,
            env={"PATH": os.environ.get("PATH", ""), "NO_COLOR": "1", "TZ": "UTC"},
        )
        code, usage = wait(child, start)
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        out, err = out.read(), err.read().decode(errors="replace").strip()
    megabytes = usage.ru_maxrss / 1024
    if code != 0:
        return None, code, seconds, megabytes, err
    j = json.loads(out)
    date = j.get("date")
    if date:
        from datetime import datetime

        date = datetime.fromisoformat(date.replace("Z", "+00:00"))
        date = date.astimezone(timezone.utc).isoformat()
    view = {
        "subject": squeezed(j.get("subject")),
        "from": [[squeezed(p.get("name")), p.get("address")] for p in j.get("from", [])],
        "to": [[squeezed(p.get("name")), p.get("address")] for p in j.get("to", [])],
        "date": date,
        "attachments": sorted(
            squeezed(a["filename"]) for a in j.get("attachments", []) if a.get("filename")
        ),
        "text": body_text(j.get("text")),
        "html": body_text(j.get("html")),
    }
    return view, code, seconds, megabytes, ""


def wait(child, start):
    """The exit status and resource use of this child alone (wait4), killed when it
    runs five times over the time bound."""
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid == child.pid:
            child.returncode = os.waitstatus_to_exitcode(status)
            return child.returncode, usage
        if time.monotonic() - start > SECONDS * 5:
            child.kill()
        time.sleep(0.002)


def known_differences(path):
    """`| file | field | reason |` rows of a Markdown table: the differences where
    Python is the one that is wrong."""
    known = set()
    if not path:
        return known
    with open(path, encoding="utf-8") as f:
        for line in f:
            cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
            if len(cells) >= 3 and cells[1] in FIELDS:
                known.add((cells[0], cells[1]))
    return known


def messages(folder):
    for root, _, files in os.walk(folder):
        for name in sorted(files):
            if name.endswith((".md", ".py")):
                continue
            yield os.path.join(root, name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--mailer", default="mailer")
    parser.add_argument("--known", help="Markdown table of known differences")
    parser.add_argument("--show", type=int, default=20)
    args = parser.parse_args()
    if not os.path.isdir(args.folder):
        print(f"compare-with-python: {args.folder}: not a folder", file=sys.stderr)
        return 64
    known = known_differences(args.known)
    equal = {f: 0 for f in FIELDS}
    compared = {f: 0 for f in FIELDS}
    problems, differences, used = [], [], set()
    total = slowest = biggest = 0
    for path in messages(args.folder):
        total += 1
        rel = os.path.relpath(path, args.folder)
        ours, code, seconds, megabytes, err = mailer_view(args.mailer, path)
        slowest, biggest = max(slowest, seconds), max(biggest, megabytes)
        if code not in (0, 65) or seconds > SECONDS or megabytes > MEGABYTES:
            problems.append(f"{rel}: exit {code}, {seconds:.2f} s, {megabytes:.0f} MB {err}")
            continue
        if ours is None:
            continue
        with open(path, "rb") as f:
            theirs = python_view(f.read())
        for field in FIELDS:
            if field == "text" and not theirs["_plain"]:
                continue  # an HTML-only message: mailer renders it, Python does not
            if field == "html" and not theirs["_html"]:
                continue  # compared where the HTML is the body
            compared[field] += 1
            if ours[field] == theirs[field]:
                equal[field] += 1
            elif (rel, field) in known:
                used.add((rel, field))
            else:
                differences.append((rel, field, ours[field], theirs[field]))
    for field in FIELDS:
        line = f"{field} equal {equal[field]}/{compared[field]}"
        print(f"{line}, known differences {compared[field] - equal[field] - sum(1 for d in differences if d[1] == field)}")
    print(f"messages {total}, slowest {slowest:.2f} s, peak {biggest:.1f} MB")
    for p in problems:
        print(f"OUT OF BOUNDS {p}")
    for rel, field, ours, theirs in differences[: args.show]:
        print(f"DIFFERENT {rel} {field}:\n  mailer: {str(ours)[:300]!s}\n  python: {str(theirs)[:300]!s}")
    stale = sorted(known - used)
    for rel, field in stale:
        print(f"KNOWN BUT EQUAL {rel} {field} (remove it from the list)")
    return 1 if problems or differences or stale else 0


if __name__ == "__main__":
    sys.exit(main())
