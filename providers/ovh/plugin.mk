# OVH provider: a libFuzzer target for what it parses (error answers,
# record targets, names, Retry-After) — `make fuzz`, FUZZ_SECONDS bounds the
# run. The plugin itself needs no extra library (libcurl, jansson, OpenSSL,
# inih are in LIBS); bench/ovh.sh is run by `make bench`.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS += fuzz-ovh
OVH_FUZZ_BIN := build-fuzz/ovh/fuzz_parse
OVH_FUZZ_SRC := tests/ovh/fuzz_parse.c $(wildcard providers/ovh/*.c)

$(OVH_FUZZ_BIN): $(OVH_FUZZ_SRC) providers/ovh/ovh.h
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -Iinclude -g -O1 -Wall -Wextra -Werror -Wshadow \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ $(OVH_FUZZ_SRC) -lcurl -ljansson -lcrypto -linih -lpthread

fuzz-ovh: $(OVH_FUZZ_BIN)
	@mkdir -p build-fuzz/ovh/corpus
	$(OVH_FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		build-fuzz/ovh/corpus tests/ovh/fuzz-seeds
.PHONY: fuzz-ovh
