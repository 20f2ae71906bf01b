/* Not a dnsfollow plugin at all: a shared object with no descriptor. */
int not_plugin_answer(void);
__attribute__((visibility("default"))) int not_plugin_answer(void) { return 42; }
