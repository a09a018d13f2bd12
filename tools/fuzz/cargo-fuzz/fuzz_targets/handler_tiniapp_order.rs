#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tikivip_fuzz::Target::HandlerTiniappOrder.run(data));
