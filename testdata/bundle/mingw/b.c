#include <pthread.h>
__declspec(dllexport) int b_func(int x){return x+1+(pthread_self()==0);}
