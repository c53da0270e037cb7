int b_func(int);
__declspec(dllexport) int a_func(int x){ volatile __int128 n = x; n = n*1000000000000LL / (x+7); return b_func((int)(n%7))*2;}
