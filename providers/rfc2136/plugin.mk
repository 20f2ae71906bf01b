# rfc2136 provider: OpenSSL for TSIG, a libFuzzer target for the message
# decoder (make fuzz; FUZZ_SECONDS bounds each run), and the benchmark's
# needs (make bench runs bench/rfc2136.sh).
rfc2136_LDLIBS := -lcrypto

FUZZ_SECONDS ?= 60
FUZZ_TARGETS += fuzz-rfc2136
R2136_FUZZ_BIN := build-fuzz/rfc2136/fuzz_decode
R2136_FUZZ_SRC := tests/fuzz/rfc2136/fuzz_decode.c \
	$(addprefix providers/rfc2136/,wire_get.c wire_put.c tsig.c tsig_verify.c keyfile.c)

$(R2136_FUZZ_BIN): $(R2136_FUZZ_SRC) $(wildcard providers/rfc2136/*.h)
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -Iinclude -g -O1 -Wall -Wextra -Werror -Wshadow \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ $(R2136_FUZZ_SRC) -lcrypto

fuzz-rfc2136: $(R2136_FUZZ_BIN)
	@mkdir -p build-fuzz/rfc2136/corpus
	$(R2136_FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=65535 \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		build-fuzz/rfc2136/corpus tests/fuzz/rfc2136/corpus
.PHONY: fuzz-rfc2136
