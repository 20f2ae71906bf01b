# Swarm backend: a libFuzzer target for the engine's JSON (task and node
# lists, the event stream's line buffering, error bodies, API versions):
# make fuzz-swarm. The benchmark is bench/swarm.sh, run by make bench.
$(eval $(call fuzz_target,swarm,tests/fuzz/swarm/fuzz_json.c \
	$(addprefix backends/swarm/,parse.c events.c select.c),-ljansson,\
	tests/fuzz/swarm/seeds,65536,backends/swarm/swarm.h))
