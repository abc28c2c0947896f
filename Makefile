# The two commands of the README: `make run` and `make test`.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test system-deps lint bench messages worker beat clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Warns, with the install command, when real PDFs would fail (no Pango), be wrong (no CJK font) or slow.
run: install
	@$(BIN)/python scripts/system-deps check documents
	$(BIN)/python manage.py migrate --noinput
	@# With DJANGO_DEBUG=0 the pages name hashed static files from a manifest: collect them first.
	@if [ "$$($(BIN)/python -c 'from portal import settings; print(int(settings.DEBUG))')" = "0" ]; then \
		$(BIN)/python manage.py collectstatic --noinput -v 0; fi
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "演示账号（密码均为 $${DEMO_PASSWORD:-demo-pass-2026}）— demo logins:"
	@$(BIN)/python manage.py list_demo_users --hints
	@echo ""
	@$(BIN)/python scripts/system-deps check documents --brief
	@echo "打开 http://$(HOST):$(PORT)/ — open http://$(HOST):$(PORT)/"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# First the Debian packages the tests need (installed once if root or passwordless sudo, never a
# prompt); tests that still miss one are listed at the end. PORTAL_REQUIRE_SYSTEM_DEPS=1 fails them.
test: system-deps
	@$(MAKE) --no-print-directory --silent install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

system-deps:
	@$(PY) scripts/system-deps install tests

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/receipt_pdf.py

messages: install
	$(BIN)/python manage.py makemessages -l en --no-obsolete --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*' --ignore 'bench/*'
	$(BIN)/python manage.py compilemessages -l en --ignore '.venv/*'

worker: install
	$(BIN)/celery -A portal worker --loglevel=INFO

beat: install
	$(BIN)/celery -A portal beat --loglevel=INFO

clean:
	rm -rf $(VENV) var
