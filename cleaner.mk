# cleaner, stage by stage: raw/ and rules/ in, clean/ out.
CLEANER ?= cleaner
RAW     ?= raw
RULES   ?= rules
BUILD   ?= build
OUT     ?= clean
# GNU coreutils' sha256sum, or shasum on macOS and the BSDs.
SHA256  ?= $(shell command -v sha256sum >/dev/null 2>&1 && echo sha256sum || echo 'shasum -a 256')

.DELETE_ON_ERROR:
.PHONY: cleaner-all FORCE
cleaner-all: $(OUT)/corpus.jsonl

# Fingerprints of the inputs, rewritten only when their content changes:
# a raw file edited, added, removed or renamed; a rule file edited; another
# version of cleaner. They are remade on every run (FORCE), but a target that
# make finds unchanged after its recipe does not make anything after it rerun.
$(BUILD)/raw.sha256: FORCE
	@mkdir -p $(@D)
	@{ $(CLEANER) --version && cd $(RAW) && find . ! -path '*/.*' \( -type f -print0 \
	   -o -type l -exec test -f {} \; -print0 \) | LC_ALL=C sort -z | xargs -0 $(SHA256); } > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

$(BUILD)/rules.sha256: FORCE
	@mkdir -p $(@D)
	@{ $(CLEANER) --version && find $(RULES) -maxdepth 1 -name '*.toml' ! -name encodings.toml \
	   -print0 | LC_ALL=C sort -z | xargs -0 $(SHA256); } > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

$(BUILD)/encodings.sha256: FORCE
	@mkdir -p $(@D)
	@{ $(CLEANER) --version && find $(RULES) -maxdepth 1 -name encodings.toml \
	   -print0 | xargs -0 $(SHA256); } > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

# One target per stage; each command writes its file atomically.
$(BUILD)/pages.jsonl: $(BUILD)/raw.sha256 $(BUILD)/encodings.sha256
	$(CLEANER) decode $(RAW) $@ --rules $(RULES) --quiet

# Site templates (lines recurring across files) are learned from the whole
# corpus after the rules; the list of them goes to templates.txt.
$(BUILD)/templates.json: $(BUILD)/raw.sha256 $(BUILD)/encodings.sha256 $(BUILD)/rules.sha256
	$(CLEANER) templates $(RAW) --rules $(RULES) --save $@ --quiet > $(BUILD)/templates.txt

$(BUILD)/stripped.jsonl: $(BUILD)/pages.jsonl $(BUILD)/rules.sha256 $(BUILD)/templates.json
	$(CLEANER) strip $< $@ --rules $(RULES) --templates $(BUILD)/templates.json --quiet

$(BUILD)/repaired.jsonl: $(BUILD)/stripped.jsonl
	$(CLEANER) repair $< $@ --quiet

$(BUILD)/normalized.jsonl: $(BUILD)/repaired.jsonl
	$(CLEANER) normalize $< $@ --quiet

$(BUILD)/speeches.jsonl: $(BUILD)/normalized.jsonl
	$(CLEANER) split $< $@ --quiet

# dedup swaps in the whole output folder, and leaves it untouched (files and
# modification times) when the new output is the same; the stamp records
# that dedup ran, so targets built from $(OUT) are remade only when it changed.
$(BUILD)/dedup.done: $(BUILD)/speeches.jsonl
	$(CLEANER) dedup $< $(OUT) --quiet
	@touch $@

$(OUT)/corpus.jsonl: $(BUILD)/dedup.done ;
