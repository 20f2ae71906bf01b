# Swarm backend: a libFuzzer target for the engine's JSON (task and node
# lists, the event stream's line buffering) — `make fuzz`, FUZZ_SECONDS
# bounds the run — and the benchmark (bench/swarm.sh, run by make bench).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS += fuzz-swarm
SWARM_FUZZ_BIN := build-fuzz/swarm/fuzz_json
SWARM_FUZZ_SRC := tests/fuzz/swarm/fuzz_json.c \
	$(addprefix backends/swarm/,parse.c events.c select.c)

$(SWARM_FUZZ_BIN): $(SWARM_FUZZ_SRC) backends/swarm/swarm.h
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -Iinclude -g -O1 -Wall -Wextra -Werror -Wshadow \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ $(SWARM_FUZZ_SRC) -ljansson

fuzz-swarm: $(SWARM_FUZZ_BIN)
	@mkdir -p build-fuzz/swarm/corpus
	$(SWARM_FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		build-fuzz/swarm/corpus tests/fuzz/swarm/seeds
.PHONY: fuzz-swarm
