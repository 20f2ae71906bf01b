# rfc2136 provider: OpenSSL for TSIG, and libFuzzer targets for the
# message decoder and TSIG verification (make fuzz-rfc2136; the benchmark
# is bench/rfc2136.sh, run by make bench).
rfc2136_LDLIBS := -lcrypto

$(eval $(call fuzz_target,rfc2136,tests/fuzz/rfc2136/fuzz_decode.c \
	$(addprefix providers/rfc2136/,wire_get.c wire_put.c tsig.c tsig_verify.c keyfile.c),\
	-lcrypto,tests/fuzz/rfc2136/corpus,65535,$(wildcard providers/rfc2136/*.h)))

# The TSIG key file parser (make fuzz-rfc2136-keyfile).
$(eval $(call fuzz_target,rfc2136-keyfile,tests/fuzz/rfc2136/fuzz_keyfile.c \
	$(addprefix providers/rfc2136/,keyfile.c tsig.c wire_get.c wire_put.c),\
	-lcrypto,tests/fuzz/rfc2136/keyfile-corpus,65536,$(wildcard providers/rfc2136/*.h)))

# Zone transfers: the parser fed message streams, signed by the harness
# or not (make fuzz-rfc2136-axfr).
$(eval $(call fuzz_target,rfc2136-axfr,tests/fuzz/rfc2136/fuzz_axfr.c \
	$(addprefix providers/rfc2136/,axfr_parse.c wire_get.c wire_put.c tsig.c tsig_verify.c rcode.c keyfile.c),\
	-lcrypto,tests/fuzz/rfc2136/axfr-corpus,262144,$(wildcard providers/rfc2136/*.h) \
	tests/unit/rfc2136/fake_sign.h))
