# Static backend: a libFuzzer target for the placements parser (parse.c
# works on memory, no file or host): make fuzz-static. The plugin needs
# no extra library.
$(eval $(call fuzz_target,static,tests/fuzz/static/fuzz_parse.c backends/static/parse.c,,\
	tests/fuzz/static/seeds,4096,backends/static/static.h))
