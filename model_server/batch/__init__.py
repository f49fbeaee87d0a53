"""Dialogue libraries in one command: a manifest of lines in, a curves file per line out.

    python -m model_server batch MANIFEST -o OUT_DIR [--workers N] [--live-link] [--glb demo|RIG.blend] [--ray ADDRESS]

manifest.py reads the lines (CSV or JSON lines), line_work.py animates one line and writes its files,
records.py keeps what each line came to (resume and the summary), local_pool.py runs lines in worker
processes on this machine and ray_runner.py as tasks on a Ray cluster.
"""
