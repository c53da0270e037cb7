int d_func(int x){return x+4;}
