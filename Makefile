# Convenience targets; the README's two commands are scripts/run.sh and scripts/test.sh.
PY := .venv/bin/python

.PHONY: run test unit nlu-report

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

unit:
	$(PY) -m pytest -q -m unit

# Intent F1 by 5-fold cross-validation; slow, so not part of every CI run.
nlu-report:
	bash scripts/setup.sh
	$(PY) -m rasa test nlu --nlu data/nlu --config config.yml --cross-validation --folds 5 --out results/nlu-cv
	@echo "Rapport : results/nlu-cv/intent_report.json"
