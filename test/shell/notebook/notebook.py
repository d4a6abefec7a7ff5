"""The notebook side of test/shell/notebook_roundtrip.sh (docs/lifecycle.md's recipe).

train DIR: trains four models as a data scientist would (binary, multi-class,
regression, categorical features), saves each with save_model as JSON and as
UBJSON, and writes for each:
  NAME.json, NAME.ubj        the saved models
  NAME.2x.json, NAME.2x.ubj  the same model as XGBoost 2.x writes base_score
                             (a one-element list), and NAME.num.json with a
                             numeric base_score (a converted document)
  NAME.rows.jsonl            every test row: {"features": {...}, "prediction": p}
  NAME.check.json            the first 20 rows, ml.import_model's check_rows
  NAME.features.json         the features argument ([] when the model carries
                             everything learnloop needs)
  NAME.classes               the class names, one a line (classifiers)
The models: binary, multiclass, regression, dart (which XGBoost serves),
linear (gblinear, which learnloop refuses), ranking (rank:pairwise) and
categorical.

compare MODEL_FILE ROWS_JSONL SQL_PREDICTIONS: loads MODEL_FILE with
Booster().load_model(bytearray(...)) as a notebook would, predicts the rows,
and prints the largest difference from the predictions learnloop made in SQL.
"""
import json
import sys

import numpy as np
import pandas as pd
import xgboost as xgb

N = 400
rng = np.random.default_rng(7)


def frame():
    df = pd.DataFrame({
        "hour_of_day": rng.integers(0, 24, N).astype(float),
        "streak": rng.poisson(3, N).astype(float),
        "score": rng.normal(0.5, 0.2, N),
    })
    # missing values, as real features have
    df.loc[rng.random(N) < 0.1, "score"] = np.nan
    return df


def rows(df):
    out = []
    for rec in df.to_dict("records"):
        out.append({k: (None if isinstance(v, float) and np.isnan(v) else
                        (float(v) if isinstance(v, (float, int, np.floating, np.integer)) else str(v)))
                    for k, v in rec.items()})
    return out


def dmatrix(df, label=None):
    return xgb.DMatrix(df, label=label, enable_categorical=True, nthread=1)


def save(directory, name, booster, df, features, classes=None):
    booster.save_model(f"{directory}/{name}.json")
    booster.save_model(f"{directory}/{name}.ubj")
    pred = booster.predict(dmatrix(df))
    feats = rows(df)
    with open(f"{directory}/{name}.rows.jsonl", "w") as f:
        for x, p in zip(feats, pred):
            # jsonb drops nulls' keys as missing anyway; absent keys are missing
            f.write(json.dumps({"features": {k: v for k, v in x.items() if v is not None},
                                "prediction": p.tolist() if np.ndim(p) else float(p)}) + "\n")
    with open(f"{directory}/{name}.check.json", "w") as f:
        json.dump([{"features": {k: v for k, v in x.items() if v is not None},
                    "prediction": p.tolist() if np.ndim(p) else float(p)}
                   for x, p in zip(feats[:20], pred[:20])], f)
    with open(f"{directory}/{name}.features.json", "w") as f:
        json.dump(features, f)
    if classes is not None:
        with open(f"{directory}/{name}.classes", "w") as f:
            f.write("\n".join(classes) + "\n")
    # XGBoost 2.x (and 3.x) write base_score as a one-element list
    doc = json.load(open(f"{directory}/{name}.json"))
    base = doc["learner"]["learner_model_param"]["base_score"]
    doc["version"] = [2, 1, 4]
    doc["learner"]["learner_model_param"]["base_score"] = "[" + base + "]"
    booster_doc = doc["learner"]["gradient_booster"]
    model = booster_doc["gbtree"]["model"] if "gbtree" in booster_doc else booster_doc["model"]
    if "trees" in model:
        model["iteration_indptr"] = list(range(0, len(model["trees"]) + 1))
    text = json.dumps(doc, separators=(",", ":"), allow_nan=True)
    open(f"{directory}/{name}.2x.json", "w").write(text)
    doc["learner"]["learner_model_param"]["base_score"] = float(base)
    open(f"{directory}/{name}.num.json", "w").write(json.dumps(doc, separators=(",", ":"), allow_nan=True))
    ubj = open(f"{directory}/{name}.ubj", "rb").read()
    key = b"L" + (10).to_bytes(8, "big") + b"base_score"
    at = ubj.index(key) + len(key)
    assert ubj[at:at + 2] == b"SL"
    n = int.from_bytes(ubj[at + 2:at + 10], "big")
    value = b"[" + ubj[at + 10:at + 10 + n] + b"]"
    open(f"{directory}/{name}.2x.ubj", "wb").write(
        ubj[:at] + b"SL" + len(value).to_bytes(8, "big") + value + ubj[at + 10 + n:])


def train(directory):
    params = {"max_depth": 3, "eta": 0.3, "nthread": 1, "seed": 1, "tree_method": "hist"}

    df = frame()
    y = ((df.hour_of_day > 12) ^ (df.streak > 3)).astype(int)
    b = xgb.train({**params, "objective": "binary:logistic"}, dmatrix(df, y), 12)
    save(directory, "binary", b, df, [], ["stay", "churn"])

    df = frame()
    y = np.digitize(df.streak + rng.normal(0, 1, N), [2, 4])
    b = xgb.train({**params, "objective": "multi:softprob", "num_class": 3}, dmatrix(df, y), 8)
    save(directory, "multiclass", b, df, [], ["low", "mid", "high"])

    df = frame()
    y = 2 * df.hour_of_day - df.streak + rng.normal(0, 1, N)
    b = xgb.train({**params, "objective": "reg:squarederror"}, dmatrix(df, y), 15)
    save(directory, "regression", b, df, [])

    # dart: served by XGBoost itself, which the evaluator column says
    df = frame()
    y = 3 * df.hour_of_day - df.streak + rng.normal(0, 0.1, N)
    b = xgb.train({**params, "booster": "dart", "objective": "reg:squarederror", "rate_drop": 0.1},
                  dmatrix(df, y), 10)
    save(directory, "dart", b, df, [])

    # gblinear: XGBoost 1.7 loads it but cannot predict it in place, as serving does
    df = frame().fillna(0.5)
    y = 3 * df.score - 0.1 * df.streak + rng.normal(0, 0.1, N)
    b = xgb.train({"booster": "gblinear", "objective": "reg:squarederror", "nthread": 1, "seed": 1},
                  dmatrix(df, y), 20)
    save(directory, "linear", b, df, [])

    # ranking: query groups of 10 rows
    df = frame()
    y = np.clip(np.round(df.hour_of_day / 8 + rng.normal(0, 0.5, N)), 0, 3)
    d = dmatrix(df, y)
    d.set_group([10] * (N // 10))
    b = xgb.train({**params, "objective": "rank:pairwise"}, d, 10)
    save(directory, "ranking", b, df, [])

    # categorical features need enable_categorical (and hist) in XGBoost 1.7;
    # its saved model has feature_types "c" but no dictionary of the
    # categories: the notebook passes pandas' cat.categories as features
    df = frame()
    df["topic"] = pd.Categorical(rng.choice(["algebra", "geometry", "calculus", "stats"], N))
    y = (df.topic.isin(["algebra", "stats"]) ^ (df.hour_of_day > 15)).astype(int)
    b = xgb.train({**params, "objective": "binary:logistic", "max_cat_to_onehot": 1},
                  dmatrix(df, y), 10)
    feats = [{"name": c, "type": "numeric"} for c in ["hour_of_day", "streak", "score"]]
    feats.append({"name": "topic", "type": "categorical",
                  "categories": [str(c) for c in df.topic.cat.categories]})
    save(directory, "categorical", b, df, feats, ["no", "yes"])


def compare(model_file, rows_file, sql_file):
    booster = xgb.Booster()
    booster.load_model(bytearray(open(model_file, "rb").read()))
    records = [json.loads(line) for line in open(rows_file)]
    sql = [json.loads(line) for line in open(sql_file)]
    names = booster.feature_names
    df = pd.DataFrame([r["features"] for r in records]).reindex(columns=names)
    for name, kind in zip(names, booster.feature_types):
        if kind == "c":
            # the exported model's categories are the feature schema's codes
            df[name] = pd.Categorical(df[name], categories=sql_categories[name])
        else:
            df[name] = df[name].astype(float)
    pred = booster.predict(dmatrix(df))
    got = np.array(sql, dtype=float).reshape(pred.shape)
    print("%.3g" % np.max(np.abs(pred.astype(float) - got)))


if __name__ == "__main__":
    if sys.argv[1] == "train":
        train(sys.argv[2])
    else:
        schema = json.load(open(sys.argv[5]))
        sql_categories = {f["name"]: f.get("categories") for f in schema["features"]}
        compare(sys.argv[2], sys.argv[3], sys.argv[4])
