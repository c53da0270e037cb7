__declspec(dllexport) int c_func(int x){return x+3;}
