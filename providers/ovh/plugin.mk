# OVH provider: libFuzzer targets for what it parses: error answers,
# record targets, names, Retry-After (make fuzz-ovh); python-ovh's ovh.conf
# (make fuzz-ovh-conf); record JSON, ids and targets (make
# fuzz-ovh-records). The plugin itself needs no extra library (libcurl,
# jansson, OpenSSL, inih are in LIBS); bench/ovh.sh is run by make bench.
# The record code calls the host's SDK helpers (ABI 2): the targets that
# reach it link the core's own (core/sdk.c) into a host table.
OVH_FUZZ_LIBS = -lcurl -ljansson -lcrypto -linih -lpthread
$(eval $(call fuzz_target,ovh,tests/ovh/fuzz_parse.c $(wildcard providers/ovh/*.c) core/sdk.c,\
	$(OVH_FUZZ_LIBS),tests/ovh/fuzz-seeds,4096,providers/ovh/ovh.h))
$(eval $(call fuzz_target,ovh-conf,tests/ovh/fuzz_conf.c $(wildcard providers/ovh/*.c),\
	$(OVH_FUZZ_LIBS),tests/ovh/fuzz-seeds-conf,4096,providers/ovh/ovh.h))
$(eval $(call fuzz_target,ovh-records,tests/ovh/fuzz_records.c $(wildcard providers/ovh/*.c) core/sdk.c,\
	$(OVH_FUZZ_LIBS),tests/ovh/fuzz-seeds-records,4096,providers/ovh/ovh.h))
