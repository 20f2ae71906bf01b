#include <stdio.h>
int main(void) { fputs("dnsfollow: not yet\n", stderr); return 1; }
