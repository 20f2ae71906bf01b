# OVH provider: a libFuzzer target for what it parses (error answers,
# record targets, names, Retry-After): make fuzz-ovh. The plugin itself
# needs no extra library (libcurl, jansson, OpenSSL, inih are in LIBS);
# bench/ovh.sh is run by make bench.
$(eval $(call fuzz_target,ovh,tests/ovh/fuzz_parse.c $(wildcard providers/ovh/*.c),\
	-lcurl -ljansson -lcrypto -linih -lpthread,tests/ovh/fuzz-seeds,4096,\
	providers/ovh/ovh.h))
