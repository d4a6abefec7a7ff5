#!/usr/bin/python3
"""The architecture learnloop replaces: a Python service that fetches a row's
features from PostgreSQL and predicts with XGBoost (Debian's python3-xgboost).

    python_client.py CLIENTS SECONDS MODEL.ubj ROWS

Connects with the usual PG* environment variables; prints requests/s and
latency (mean, p99) over CLIENTS processes.
"""
import multiprocessing
import random
import sys
import time

import numpy as np
import psycopg2
import xgboost as xgb


def client(args):
    seconds, model, rows, seed = args
    booster = xgb.Booster(model_file=model)
    booster.set_param({"nthread": 1})
    conn = psycopg2.connect("")
    cur = conn.cursor()
    rng = random.Random(seed)
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        cur.execute("SELECT f FROM t WHERE id = %s", (rng.randint(1, rows),))
        features = np.asarray(cur.fetchone()[0], dtype=np.float32).reshape(1, -1)
        booster.inplace_predict(features)
        latencies.append(time.perf_counter() - start)
    conn.close()
    return latencies


def main():
    clients, seconds, model, rows = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    with multiprocessing.Pool(clients) as pool:
        results = pool.map(client, [(seconds, model, rows, i) for i in range(clients)])
    latencies = np.concatenate([np.asarray(r) for r in results]) * 1000
    print(f"python+xgboost clients={clients}: {len(latencies) / seconds:.0f} requests/s, "
          f"latency mean {latencies.mean():.3f} ms, p99 {np.percentile(latencies, 99):.3f} ms")


if __name__ == "__main__":
    main()
