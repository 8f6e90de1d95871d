#!/usr/bin/env python3
"""Makes the fuzzers' seed inputs from the fixtures, for scripts/fuzz.sh --reseed.

    tests/fuzz/make_seeds.py OUT_DIR

writes OUT_DIR/<target>/<name> for every fuzz target. scripts/fuzz.sh then merges them into
tests/fuzz/corpus/<target>/ with libFuzzer's -merge=1, which keeps only inputs that add
coverage. Input formats: see fuzz_support.hpp (line script) and each *_fuzzer.cpp.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def mbus_apdu(frames):
    """The APDU of an M-Bus push: each frame's user data after C A CI STSAP DTSAP."""
    apdu = b""
    for f in frames:
        apdu += f[9:-2]
    return apdu


def hdlc_apdu(frames):
    """The APDU of an HDLC push, general block transfer joined where the meter uses it."""
    first = frames[0]
    start = first.index(b"\xe6\xe7\x00") + 3
    if first[start] != 0xE0:
        return first[start:-3]
    apdu = b""
    for i, f in enumerate(frames):
        pos = start if i == 0 else f.index(b"\xe0", 8)
        # E0 control block-number(2) acknowledged(2) length(1) data
        length = f[pos + 6]
        apdu += f[pos + 7:pos + 7 + length]
    return apdu


def dsmr_text(identification, lines):
    """A DSMR telegram as telegram_encoder::dsmr_text makes it: CRC-16/ARC of "/" to "!"."""
    text = ("/" + identification + "\r\n\r\n" + "".join(l + "\r\n" for l in lines) + "!").encode()
    crc = 0
    for byte in text:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return text + b"%04X\r\n" % crc


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "seeds")
    vectors = json.load(open(os.path.join(ROOT, "fixtures", "vectors.json")))

    def put(target, name, data):
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)

    # Line script headers: (chunking byte, gap byte); see fuzz_support.hpp.
    scripts = {
        "whole": (0x80, 0x00),  # one piece, idle gap at the end
        "bytewise": (0x00, 0x00),  # one byte at a time
        "chunks64": (0x3F, 0x00),  # 64 bytes at a time, like a UART FIFO read
        "random": (0x5F, 0x00),  # 1..32 bytes
        "gappy": (0x4F, 0x30),  # 1..16 bytes, idle gaps in between (frames cut)
    }
    all_line = b""
    for index, v in enumerate(vectors):
        frames = [bytes.fromhex(f) for f in v["frames_hex"]]
        line = b"".join(frames)
        all_line += line
        bare = v["framing"] == "raw-apdu"  # the P1 port: no link layer
        for sname, (chunking, gap) in scripts.items():
            header = bytes([chunking, gap])
            put("telegram_decoder", f"{v['id']}-{sname}", bytes([index]) + header + line)
            if bare:
                # Byte 0 / key sets % 4 == 3: the link forced to apdu (telegram_decoder_fuzzer).
                put("telegram_decoder", f"{v['id']}-apdu-{sname}",
                    bytes([index + 3 * len(vectors)]) + header + line + line)
                continue
            framer = "mbus" if v["framing"] == "mbus" else "hdlc"
            put(f"{framer}_frame_assembler", f"{v['id']}-{sname}", header + line)
        if v["framing"] == "mbus":
            apdu = mbus_apdu(frames)
        elif bare:
            apdu = line
        else:
            apdu = hdlc_apdu(frames)
        put("dlms_security", v["id"], apdu)
        if v.get("plaintext_hex"):
            plain = bytes.fromhex(v["plaintext_hex"])
            put("dsmr_telegram" if plain[:1] == b"/" else "axdr", v["id"], plain)

    # Link-layer odds and ends: acknowledgements, a short frame, noise between frames.
    put("mbus_frame_assembler", "control-frames",
        bytes([0x80, 0x00]) + b"\xe5\x10\x53\xfe\x51\x16" + all_line[:300] + b"\xe5")
    put("mbus_frame_assembler", "all-fixtures", bytes([0x5F, 0x08]) + all_line)
    put("telegram_decoder", "all-fixtures", bytes([0, 0x5F, 0x00]) + all_line)
    put("hdlc_frame_assembler", "all-fixtures", bytes([0x5F, 0x08]) + all_line)
    # HDLC frames without an information field (RR, UA): valid, skipped.
    put("hdlc_frame_assembler", "control-frames",
        bytes([0x80, 0x00]) + b"\x7e\xa0\x07\x03\x21\x51\xa8\x31\x7e" + all_line[-130:])

    # DSMR texts beyond the capture's (synthetic): kWh with decimals, gas with its time stamp,
    # the power failure log, a hex-coded equipment id, and no CRC (DSMR before 4.0).
    put("dsmr_telegram", "synthetic-dsmr4", dsmr_text("ISK5\\2M550T-1012", [
        "1-3:0.2.8(42)", "0-0:1.0.0(101209113020W)",
        "0-0:96.1.1(4B384547303034303436333935353037)", "1-0:1.8.1(123456.789*kWh)",
        "1-0:2.7.0(01.193*kW)", "1-0:32.7.0(220.1*V)", "1-0:31.7.0(001*A)",
        "0-0:96.7.21(00004)", "1-0:99.97.0(2)(0-0:96.7.19)(101208152415W)(0000000240*s)",
        "0-1:24.2.1(101209112500W)(12785.123*m3)", "0-0:96.13.0()"]))
    put("dsmr_telegram", "synthetic-no-crc", b"/KFM5KAIFA-METER\r\n\r\n1-0:1.8.0(000001*kWh)\r\n!\r\n")

    config = open(os.path.join(ROOT, "config", "evn-mbus.yaml"), "rb").read()
    put("config_loader", "example", config)
    put("config_loader", "example-with-key",
        config.replace(b"REPLACE_WITH_YOUR_32_HEX_DIGIT_KEY",
                       b"36C6 6639 E48A 8CA4 D6BC 8B28 2A79 3BBB"))
    variants = {
        "minimal": b"meter:\n  key: 36C66639E48A8CA4D6BC8B282A793BBB\n",
        "key-file-tls": b"""serial:
  device: /dev/ttyUSB0
  link: hdlc
meter:
  key_file: key
  auth_key: "92 70 5C 5C 97 28 60 64 EA BA E3 8D 19 0F 87 A4"
mqtt:
  uri: ssl://broker.local:8883
  username: home
  password_file: password
  tls:
    ca_file: ca.pem
    cert_file: client.pem
    key_file: client.key
    verify: false
  discovery: {enabled: false, prefix: ha, energy_unit: kWh, expire_after_s: 600}
log: {level: debug, target: stderr, summary_interval_s: 0}
""",
        "mistakes": b"""serial:
  baudrate: 9600
  parity: EVEN
  idle_gap_ms: 2
	data_bits: 9
meter:
  key: 36C66639E48A8CA4D6BC8B282A793BB
mqtt:
  uri: localhost
  qos: 3
  topic_prefix: evn/#
  queue_size: -1
  retain: yes please
""",
        "anchors-flow": b"""defaults: &d {qos: 1, retain: true}
mqtt:
  <<: *d
  uri: "tcp://[::1]:1883"
meter: {key: '36C66639E48A8CA4D6BC8B282A793BBB'}
serial: [1, 2, 3]
""",
        "two-documents":
            b"meter:\n  key: 00112233445566778899AABBCCDDEEFF\n---\nlog:\n  level: warn\n",
        "leading-comma": b",meter:\n  key: 1\n",
        "scalar": b"just a value\n",
        "list": b"- serial\n- meter\n",
    }
    for name, text in variants.items():
        put("config_loader", name, text)


if __name__ == "__main__":
    main()
