/* hlt in user mode: natively a SIGSEGV (status 139); musl a_crash() uses it. */
#include <stdio.h>
int main(void){ printf("before\n"); fflush(stdout); __asm__ volatile("hlt"); printf("after\n"); return 5; }
