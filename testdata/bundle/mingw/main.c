#include <stdio.h>
#include <zlib.h>
int a_func(int); int c_func(int); int d_func(int);
int main(void){printf("hello from main: a=%d c=%d d=%d zlib=%s\n", a_func(1), c_func(1), d_func(1), zlibVersion());return 0;}
