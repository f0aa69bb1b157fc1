#!/usr/bin/env python3
"""Static checks of docker/ and ops/ against the sources they must match.

Usage: check.py ROOT PROMRULES_OUT
  ROOT          repository root (or a copy of it, for the self-test)
  PROMRULES_OUT where to write the dashboard's PromQL as a rules file, so
                check.sh can have promtool parse it (when promtool exists)

Environment: RESELLERD_PACKAGES (scripts/lib.sh's list, sourced by check.sh).
Prints "ok - ..." / "FAIL - ..." per check and "N passed, N failed" last;
exits 1 if any check failed.
"""
import fnmatch
import json
import os
import re
import shlex
import sys

import yaml

ROOT, RULES_OUT = sys.argv[1], sys.argv[2]
passed = failed = 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok - {what}")
    else:
        failed += 1
        print(f"FAIL - {what}" + (f": {detail}" if detail else ""))
    return ok


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


# ---------------------------------------------------------------- sources
lib_packages = os.environ.get("RESELLERD_PACKAGES", "").split()
check(len(lib_packages) > 3, "scripts/lib.sh RESELLERD_PACKAGES is readable",
      f"got {lib_packages!r}")
SERVER_RE = re.compile(r"^postgresql-\d+$")  # the server, not -client-NN
# Tools only these static checks use: scripts/lib.sh may list them, the
# image does not need them.
CHECK_ONLY = {"python3", "python3-yaml", "prometheus", "docker-compose", "yamllint"}
want_build_pkgs = {p for p in lib_packages if not SERVER_RE.match(p) and p not in CHECK_ONLY}

metrics_c = read("lib/metrics.c")
METRICS = set(re.findall(r"\bresellerd_[a-z0-9_]+\b", metrics_c))
# labels as written in the C strings: name=\"...\"
LABELS = set(re.findall(r'([a-z_]+)=\\"', metrics_c))
LABEL_VALUES = {}
for name, value in re.findall(r'([a-z_]+)=\\"([a-z0-9_]+)\\"', metrics_c):
    LABEL_VALUES.setdefault(name, set()).add(value)
m = re.search(r"statuses\[\]\s*=\s*\{([^}]*)\}", metrics_c)
LABEL_VALUES["code"] = set(re.findall(r"\d+", m.group(1)) if m else []) | {"other"}
routes = set()
for fn in sorted(os.listdir(os.path.join(ROOT, "lib"))):
    if fn.startswith("handlers") and fn.endswith(".c"):
        routes |= set(re.findall(
            r'\{\s*"[A-Z]+"\s*,\s*"[^"]*"\s*,\s*\w+\s*,\s*\w+\s*,\s*"([^"]+)"\s*(?:,\s*\w+\s*)?\}',
            read("lib/" + fn)))
LABEL_VALUES["route"] = routes | {"unmatched"}
check(len(METRICS) >= 10 and {"route", "code", "source", "le"} <= LABELS and len(routes) >= 5,
      f"lib/metrics.c: {len(METRICS)} metric names, labels {sorted(LABELS)}, "
      f"{len(routes)} routes in lib/handlers*.c",
      f"metrics={sorted(METRICS)} labels={sorted(LABELS)} routes={sorted(routes)}")
TARGET_LABELS = {"job", "instance", "__name__"}  # added by Prometheus
EXTERNAL_METRICS = {"up"}  # written by Prometheus itself

PROMQL_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring",
                   "group_left", "group_right", "bool", "offset", "inf", "nan", "atan2"}


def promql_problems(expr):
    """Metric/label names in expr that lib/metrics.c does not export."""
    probs = []
    e = re.sub(r"\$\{?\w+\}?", "X", expr)              # Grafana variables
    e = re.sub(r"\[[^\]]*\]", " ", e)                  # ranges, subqueries

    def matchers(mo):
        for name, op, val in re.findall(
                r'([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"', mo.group(0)):
            if name not in LABELS | TARGET_LABELS:
                probs.append(f"label {name!r}")
            elif name in LABEL_VALUES and "X" not in val:
                if op in ("=", "!="):
                    vals = [val]
                elif name == "route":
                    vals = [v for v in val.split("|") if re.fullmatch(r"/[\w/{}.-]*", v)]
                else:
                    vals = []
                for v in vals:
                    if v not in LABEL_VALUES[name]:
                        probs.append(f"{name}={v!r} (known: {sorted(LABEL_VALUES[name])})")
        return " "
    e = re.sub(r"\{[^}]*\}", matchers, e)
    e = re.sub(r'"(?:[^"\\]|\\.)*"', " ", e)            # other strings
    for mo in re.finditer(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", e):
        for name in re.findall(r"[a-zA-Z_]\w*", mo.group(1)):
            if name not in LABELS | TARGET_LABELS:
                probs.append(f"label {name!r} in grouping")
    e = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    for mo in re.finditer(r"\d+(?:\.\d+)?(?:[eE][-+]?\d+|ms|[smhdwy])?|([a-zA-Z_:][\w:]*)(\s*\()?", e):
        name, call = mo.group(1), mo.group(2)
        if not name or call or name.lower() in PROMQL_KEYWORDS or name == "X":
            continue
        if name not in METRICS and name not in EXTERNAL_METRICS:
            probs.append(f"metric {name!r}")
    return probs


def metrics_in(expr):
    return set(re.findall(r"\bresellerd_[a-z0-9_]+\b", expr))


# ---------------------------------------------------------------- Dockerfile
def parse_dockerfile(text):
    """[(stage_index, INSTRUCTION, args)] with continuations joined."""
    out, cur, stage = [], "", -1
    for raw in text.splitlines():
        line = raw.strip()
        if not cur and (not line or line.startswith("#")):
            continue
        if cur and line.startswith("#"):
            continue  # comment inside a continued instruction
        if line.endswith("\\"):
            cur += line[:-1] + " "
            continue
        cur += line
        instr, _, args = cur.partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            stage += 1
        out.append((stage, instr, args.strip()))
        cur = ""
    return out


df_text = read("docker/Dockerfile")
ins = parse_dockerfile(df_text)
stages = []  # dicts: name, base, index
for st, instr, args in ins:
    if instr == "FROM":
        toks = [t for t in args.split() if not t.startswith("--")]
        name = toks[2] if len(toks) >= 3 and toks[1].lower() == "as" else None
        stages.append({"name": name, "base": toks[0], "i": st})
names = [s["name"] for s in stages]
check(len(stages) >= 2, "Dockerfile is multi-stage", f"{len(stages)} FROM")
check(all(names) and len(set(names)) == len(names), "every stage is named AS and names are unique",
      str(names))


def stage_named(n):
    return next((s for s in stages if s["name"] == n), None)


def instrs(stage_i, which):
    return [a for st, i, a in ins if st == stage_i and i == which]


def root_image(s):
    seen = set()
    while s and s["base"] in names and s["base"] not in seen:
        seen.add(s["base"])
        s = stage_named(s["base"])
    return s["base"] if s else None


def image_pinned(img):
    if "@sha256:" in img:
        return True
    tail = img.rsplit("/", 1)[-1]
    return ":" in tail and not tail.endswith(":latest")


for s in stages:
    if s["base"] in names[: s["i"]]:
        continue
    check(image_pinned(s["base"]), f"stage {s['name']}: base {s['base']} has a tag or digest, not latest")
    check(s["base"] not in names, f"stage {s['name']}: base is not a later stage")
for st, instr, args in ins:
    if instr in ("COPY", "ADD"):
        mo = re.search(r"--from=(\S+)", args)
        if mo:
            src = mo.group(1)
            check(src in names[:st], f"COPY --from={src} names an earlier stage",
                  f"stages before it: {names[:st]}")
        else:
            toks = [t for t in shlex.split(args) if not t.startswith("--")]
            for src in toks[:-1]:
                if src == ".":
                    continue
                check(os.path.exists(os.path.join(ROOT, src)), f"COPY source {src} exists in the context")
                di = [l.strip() for l in read(".dockerignore").splitlines()
                      if l.strip() and not l.startswith("#")]
                check(not any(fnmatch.fnmatch(src, p) or fnmatch.fnmatch(src.split("/")[0], p) for p in di),
                      f"COPY source {src} is not excluded by .dockerignore")


def apt_packages(stage_i):
    pkgs = set()
    for run in instrs(stage_i, "RUN"):
        for mo in re.finditer(r"apt-get\s+install\s+(.*?)(?:&&|;|$)", run):
            pkgs |= {t for t in mo.group(1).split() if not t.startswith("-")}
    return pkgs


for st, instr, args in ins:
    if instr == "RUN" and "apt-get install" in args:
        check("--no-install-recommends" in args and "rm -rf /var/lib/apt/lists" in args
              and "apt-get update" in args,
              f"stage {names[st]}: apt-get update + install --no-install-recommends + list cleanup in one RUN")

build = stages[0]
check(build["name"] == "build" and build["base"].split("@")[0] == "debian:bookworm",
      "first stage is `build` FROM debian:bookworm", f"{build}")
got = apt_packages(build["i"])
check(got == want_build_pkgs,
      "build stage packages == scripts/lib.sh RESELLERD_PACKAGES minus the PostgreSQL server",
      f"missing {sorted(want_build_pkgs - got)}, extra {sorted(got - want_build_pkgs)}")
build_runs = " ".join(instrs(build["i"], "RUN"))
check(re.search(r"cmake -S \. -B build\b[^&]*-DRESELLERD_WERROR=ON", build_runs) is not None
      and "-DRESELLERD_TESTS=OFF" in build_runs
      and re.search(r"cmake --build build\b", build_runs) is not None
      and re.search(r"strip build/resellerd build/resellerctl", build_runs) is not None,
      "build stage: cmake -S . -B build -DRESELLERD_WERROR=ON -DRESELLERD_TESTS=OFF, cmake --build build, strip",
      build_runs)
check("RESELLERD_WERROR=ON" in open(os.path.join(ROOT, "scripts/check")).read()
      if os.path.exists(os.path.join(ROOT, "scripts/check")) else True,
      "scripts/check still builds with -DRESELLERD_WERROR=ON (what the image copies)")

final = stages[-1]
check(root_image(final) and root_image(final).split("@")[0] == "debian:bookworm-slim",
      f"final stage ({final['name']}) runs on debian:bookworm-slim", str(root_image(final)))
chain = []
s = final
while s:
    chain.append(s)
    s = stage_named(s["base"]) if s["base"] in names else None
users = [u for c in chain for u in instrs(c["i"], "USER")]
check(bool(users) and users[0].split(":")[0] not in ("root", "0"),
      "final stage runs as a non-root USER", str(users))
runtime_pkgs = set()
for c in chain:
    runtime_pkgs |= apt_packages(c["i"])
useradd = " ".join(r for c in chain for r in instrs(c["i"], "RUN"))
check(re.search(r"useradd\b.*--uid 10001\b.*\bresellerd\b", useradd) is not None,
      "user resellerd with uid 10001 is created")
# -dev package of the build -> runtime package it needs; None = build/test only
DEV_TO_RUNTIME = {"libmicrohttpd-dev": "libmicrohttpd12", "libjansson-dev": "libjansson4",
                  "libcurl4-openssl-dev": "libcurl4", "libssl-dev": "libssl3",
                  "libpq-dev": "libpq5", "libcmocka-dev": None}
for p in sorted(x for x in lib_packages if x.endswith("-dev")):
    if check(p in DEV_TO_RUNTIME, f"runtime mapping known for {p}",
             "a new -dev package in scripts/lib.sh: add its runtime library to the runtime "
             "stage and to DEV_TO_RUNTIME in tests/ops/check.py"):
        if DEV_TO_RUNTIME[p]:
            check(DEV_TO_RUNTIME[p] in runtime_pkgs, f"runtime image installs {DEV_TO_RUNTIME[p]} (for {p})")
check("ca-certificates" in runtime_pkgs, "runtime image installs ca-certificates")
bad = {p for p in runtime_pkgs if p.endswith("-dev") or p in ("build-essential", "gcc", "cmake", "git")}
check(not bad, "runtime image has no build tools or -dev packages", str(sorted(bad)))
hc = " ".join(instrs(final["i"], "HEALTHCHECK"))
check(all(x in hc for x in ("--interval=30s", "--timeout=5s", "--retries=3"))
      and re.search(r'CMD \["resellerd",\s*"--ready"\]', hc) is not None,
      'HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD ["resellerd", "--ready"]', hc)
check(instrs(final["i"], "ENTRYPOINT") == ['["resellerd"]'], 'ENTRYPOINT ["resellerd"]',
      str(instrs(final["i"], "ENTRYPOINT")))
check("8080" in " ".join(instrs(final["i"], "EXPOSE")), "EXPOSE 8080")
check("RESELLERD_LISTEN=0.0.0.0:8080" in " ".join(instrs(final["i"], "ENV")),
      "ENV RESELLERD_LISTEN=0.0.0.0:8080")
copies = " ".join(instrs(final["i"], "COPY"))
check(re.search(r"--from=build\s+\S*build/resellerd\s+\S*build/resellerctl\s+/usr/local/bin/", copies) is not None,
      "final stage copies build/resellerd and build/resellerctl to /usr/local/bin", copies)
sim = stage_named("simulator")
if check(sim is not None, "Dockerfile has a `simulator` target"):
    ep = " ".join(instrs(sim["i"], "ENTRYPOINT"))
    try:
        ep_list = json.loads(ep)
    except ValueError:
        ep_list = []
    check(ep_list[:1] == ["upstream-sim"] and
          " ".join(ep_list[1:]) == "--port 9000 --bind 0.0.0.0 --data /demo.json",
          "simulator runs upstream-sim --port 9000 --bind 0.0.0.0 --data /demo.json", ep)
    sim_runs = " ".join(r for st in stages for r in instrs(st["i"], "RUN"))
    check("-DRESELLERD_TESTS=ON" in sim_runs and "--target upstream-sim" in sim_runs,
          "a separate stage builds upstream-sim with -DRESELLERD_TESTS=ON")
    check(os.path.exists(os.path.join(ROOT, "tests/simulator/CMakeLists.txt")) and
          "add_executable(upstream-sim" in read("tests/simulator/CMakeLists.txt"),
          "tests/simulator still defines the upstream-sim target")
di = [l.strip() for l in read(".dockerignore").splitlines() if l.strip() and not l.startswith("#")]
check({"build*", ".local", "node_modules", ".git"} <= set(di),
      ".dockerignore excludes build*, .local, node_modules, .git", str(di))

# ---------------------------------------------------------------- compose
compose = yaml.safe_load(read("docker/compose.yaml"))
svcs = compose.get("services", {}) if isinstance(compose, dict) else {}
for n in ("postgres", "migrate", "resellerd", "simulator", "demo-data"):
    check(n in svcs, f"compose: service {n}")
for n, s in svcs.items():
    img = s.get("image")
    if "build" not in s:
        check(bool(img) and image_pinned(img), f"compose {n}: image {img} has a tag, not latest")
    b = s.get("build")
    if isinstance(b, dict):
        ctx = os.path.normpath(os.path.join(ROOT, "docker", b.get("context", ".")))
        check(os.path.normpath(ctx) == os.path.normpath(ROOT), f"compose {n}: build context is the repo root")
        check(os.path.exists(os.path.join(ctx, b.get("dockerfile", "Dockerfile"))),
              f"compose {n}: dockerfile {b.get('dockerfile')} exists")
        check(b.get("target") in names, f"compose {n}: build target {b.get('target')} is a Dockerfile stage")
    deps = s.get("depends_on", {})
    for d in (deps if isinstance(deps, (dict, list)) else []):
        check(d in svcs, f"compose {n}: depends_on {d} exists")
    nm = s.get("network_mode", "")
    if nm.startswith("service:"):
        check(nm[8:] in svcs, f"compose {n}: network_mode {nm} names a service")
    env = s.get("environment", {}) or {}
    if isinstance(env, list):
        env = dict(x.split("=", 1) for x in env)
    for k, v in env.items():
        if k.endswith("_URL") and isinstance(v, str) and v.startswith("http://"):
            host = re.match(r"http://(\[[^\]]+\]|[^/:]+)", v).group(1)
            loop = host in ("localhost", "[::1]") or host.startswith("127.")
            check(loop, f"compose {n}: {k} plain http only to loopback (resellerd refuses others)", v)
            check(n == "resellerd" or nm == "service:resellerd",
                  f"compose {n}: uses {k}={v}, so it shares resellerd's network namespace")
pg = svcs.get("postgres", {})
check(str(pg.get("image", "")).startswith("postgres:15"), "compose postgres: image postgres:15")
check("pg_isready" in json.dumps(pg.get("healthcheck", {})), "compose postgres: pg_isready healthcheck")
vols = [str(v).split(":")[0] for v in pg.get("volumes", [])]
check(bool(vols) and all(v in (compose.get("volumes") or {}) for v in vols),
      "compose postgres: data on a declared named volume", str(vols))
mg = svcs.get("migrate", {})
check(mg.get("entrypoint") == ["resellerctl", "migrate"], 'compose migrate: entrypoint ["resellerctl","migrate"]')
check(mg.get("restart") == "no", 'compose migrate: restart "no"')
check(mg.get("depends_on", {}).get("postgres", {}).get("condition") == "service_healthy",
      "compose migrate: waits for postgres healthy")
rd = svcs.get("resellerd", {})
check(rd.get("depends_on", {}).get("migrate", {}).get("condition") == "service_completed_successfully",
      "compose resellerd: waits for migrate completed_successfully")
check("DATABASE_URL" in (rd.get("environment") or {}), "compose resellerd: DATABASE_URL set")
check(any(str(p).endswith("8080:8080") or str(p) == "8080" for p in rd.get("ports", [])),
      "compose resellerd: publishes 8080")
sm = svcs.get("simulator", {})
check((sm.get("build") or {}).get("target") == "simulator", "compose simulator: built from the simulator target")
check(sm.get("network_mode") == "service:resellerd", "compose simulator: network_mode service:resellerd")
dd = svcs.get("demo-data", {})
ddcmd = " ".join(dd.get("entrypoint", []) if isinstance(dd.get("entrypoint"), list) else [str(dd.get("entrypoint"))])
ddcmd += " " + " ".join(dd.get("command", []) if isinstance(dd.get("command"), list) else [str(dd.get("command") or "")])
check("resellerctl partners import" in ddcmd and "resellerctl sync --full" in ddcmd,
      "compose demo-data: partners import + sync --full", ddcmd)
check(dd.get("restart") == "no", 'compose demo-data: restart "no"')
for v in dd.get("volumes", []):
    src = str(v).split(":")[0]
    if src.startswith("."):
        check(os.path.exists(os.path.normpath(os.path.join(ROOT, "docker", src))),
              f"compose demo-data: bind-mounted {src} exists")
for n, s in svcs.items():
    if s.get("image") == "resellerd:local" or (s.get("build") or {}).get("target") == "runtime":
        envk = s.get("environment") or {}
        check("DATABASE_URL" in envk, f"compose {n}: DATABASE_URL set (resellerctl/resellerd need it)")

# ---------------------------------------------------------------- dashboard
try:
    dash = json.loads(read("ops/grafana/resellerd.json"))
    check(True, "ops/grafana/resellerd.json is valid JSON")
except ValueError as ex:
    dash = {}
    check(False, "ops/grafana/resellerd.json is valid JSON", str(ex))
check(dash.get("schemaVersion") == 39, "dashboard schemaVersion 39", str(dash.get("schemaVersion")))
tvars = (dash.get("templating") or {}).get("list", [])
check(any(v.get("name") == "DS_PROMETHEUS" and v.get("type") == "datasource" and v.get("query") == "prometheus"
          for v in tvars), "dashboard has the datasource variable DS_PROMETHEUS")


def all_panels(ps):
    for p in ps:
        yield p
        yield from all_panels(p.get("panels", []))


panels = list(all_panels(dash.get("panels", [])))
ids = [p.get("id") for p in panels]
check(len(ids) == len(set(ids)) and None not in ids, "dashboard panel ids are unique")
exprs, bad_ds = [], []
for p in panels:
    if p.get("type") == "row":
        continue
    if (p.get("datasource") or {}).get("uid") != "${DS_PROMETHEUS}":
        bad_ds.append(p.get("title"))
    for t in p.get("targets", []):
        if (t.get("datasource") or {}).get("uid", "${DS_PROMETHEUS}") != "${DS_PROMETHEUS}":
            bad_ds.append(p.get("title") + "/" + t.get("refId", "?"))
        exprs.append((p.get("title"), t.get("expr", "")))
for v in tvars:
    if v.get("type") == "query":
        exprs.append(("variable " + v["name"], v.get("definition", "")))
check(not bad_ds, "every panel and query uses datasource ${DS_PROMETHEUS}", str(bad_ds))
check(len(exprs) >= 10, f"dashboard has {len(exprs)} PromQL queries")
for title, e in exprs:
    e2 = re.sub(r"^label_values\((.*?)(?:,\s*\w+)?\)$", r"\1", e)
    probs = promql_problems(e2)
    check(not probs, f"dashboard [{title}] references only exported metrics/labels", "; ".join(probs))
used = set().union(*(metrics_in(e) for _, e in exprs)) if exprs else set()
required = {"resellerd_http_requests_total", "resellerd_http_request_duration_seconds_bucket",
            "resellerd_decision_cache_hits_total", "resellerd_decision_cache_misses_total",
            "resellerd_db_pool_in_use", "resellerd_db_pool_waiting",
            "resellerd_upstream_requests_total", "resellerd_upstream_errors_total",
            "resellerd_upstream_retries_total", "resellerd_sync_rows_total",
            "resellerd_sync_lag_seconds", "resellerd_sync_last_success_timestamp_seconds",
            "resellerd_webhook_deliveries_total", "resellerd_build_info"}
check(required <= used, "dashboard covers the required metrics", f"missing {sorted(required - used)}")
check(any("histogram_quantile(0.5" in e for _, e in exprs) and any("histogram_quantile(0.99" in e for _, e in exprs),
      "dashboard has p50 and p99 latency")
unused = sorted(x for x in METRICS - used
                if not re.search(r"_(sum|count)$", x) and x != "resellerd_http_request_duration_seconds")
if unused:
    print(f"note - exported but not on the dashboard: {', '.join(unused)}")
# for promtool: the dashboard's queries as recording rules
with open(RULES_OUT, "w", encoding="utf-8") as f:
    rules = []
    for i, (title, e) in enumerate(exprs):
        if e.startswith("label_values("):
            continue
        e = e.replace("$__rate_interval", "5m").replace("$__interval", "1m")
        e = re.sub(r"\$\{?\w+\}?", ".*", e)
        rules.append({"record": f"dashboard:query_{i}", "expr": e})
    yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)

# ---------------------------------------------------------------- alerts
try:
    alerts = yaml.safe_load(read("ops/prometheus/alerts.yaml"))
    check(True, "ops/prometheus/alerts.yaml is valid YAML")
except yaml.YAMLError as ex:
    alerts = {}
    check(False, "ops/prometheus/alerts.yaml is valid YAML", str(ex))
groups = (alerts or {}).get("groups", [])
check(isinstance(groups, list) and groups and all("name" in g and isinstance(g.get("rules"), list) for g in groups),
      "alerts: groups[] with name and rules[]")
seen = set()
for g in groups:
    for r in g.get("rules", []):
        a = r.get("alert")
        if not a:
            continue
        seen.add(a)
        tag = f"alert {a} ({r.get('labels', {}).get('cause', '')})".replace(" ()", "")
        check(isinstance(r.get("expr"), str) and r["expr"].strip() and
              r["expr"].count("(") == r["expr"].count(")"), f"{tag}: expr present, parentheses balanced")
        check(re.fullmatch(r"(\d+[smhdwy])+", str(r.get("for", ""))) is not None, f"{tag}: for is a duration")
        check(r.get("labels", {}).get("severity") in ("critical", "warning", "info"), f"{tag}: severity label")
        ann = r.get("annotations", {})
        check(all(ann.get(k) for k in ("summary", "description", "runbook")),
              f"{tag}: summary, description and runbook annotations")
        probs = promql_problems(r.get("expr", ""))
        check(not probs, f"{tag}: expr references only exported metrics/labels", "; ".join(probs))
readme = read("docker/README.md") if os.path.exists(os.path.join(ROOT, "docker/README.md")) else ""
anchors = {re.sub(r"[^a-z0-9 _-]", "", h.strip().lower()).replace(" ", "-")
           for h in re.findall(r"^#+\s+(.*)$", readme, re.M)}
for g in groups:
    for r in g.get("rules", []):
        for a in re.findall(r"docker/README\.md#([\w-]+)", json.dumps(r.get("annotations", {}))):
            check(a in anchors, f"alert {r.get('alert')}: runbook anchor docker/README.md#{a} exists")
need = {"ResellerdNotReady", "ResellerdSyncLagHigh", "ResellerdUpstreamErrors", "Resellerd5xx",
        "ResellerdPoolSaturated"}
check(need <= seen, "alerts: all five required alerts present", f"missing {sorted(need - seen)}")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
