# rfc2136 provider: OpenSSL for TSIG, and a libFuzzer target for the
# message decoder and TSIG verification (make fuzz-rfc2136; the benchmark
# is bench/rfc2136.sh, run by make bench).
rfc2136_LDLIBS := -lcrypto

$(eval $(call fuzz_target,rfc2136,tests/fuzz/rfc2136/fuzz_decode.c \
	$(addprefix providers/rfc2136/,wire_get.c wire_put.c tsig.c tsig_verify.c keyfile.c),\
	-lcrypto,tests/fuzz/rfc2136/corpus,65535,$(wildcard providers/rfc2136/*.h)))
