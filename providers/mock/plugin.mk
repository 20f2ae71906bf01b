# Mock provider: a libFuzzer target for the state file parser (state.c's
# mock_state_parse works on memory): make fuzz-mock. jansson is in LIBS
# for the plugin itself.
$(eval $(call fuzz_target,mock,tests/fuzz/mock/fuzz_state.c providers/mock/state.c,-ljansson,\
	tests/fuzz/mock/seeds,4096,providers/mock/mock.h))
