#!/usr/bin/python3
"""A Modbus device whose protocol work is done by pymodbus (Debian's python3-pymodbus),
an implementation this project did not write: pymodbus frames, checks the CRC, decodes,
executes against its datastore and encodes the answer; this script only moves bytes.
(pymodbus's own server classes need pyserial even for TCP; its framers and datastore do not.)

Over TCP (--tcp; --port 0 picks a free one) or RTU on a serial port (--serial PATH, one
side of a socat pty pair). Units not listed in --units never answer (a silent unit).
Holding registers 0..99 start at 1000 * unit + address, input registers at
1000 * unit + 500 + address; reading past 99 is answered with exception 02.
Prints "READY <port>" once serving, then "SET <fc> <address> <values>" for every
write the device executes (and FC22 mask writes as the register they produce).

With --faults, a read of holding register 90..93 (FC3) is answered with a damaged
frame: pymodbus builds the correct answer and this script breaks it the way a line
does. 90: CRC damaged (RTU); 91: short (RTU: truncated; TCP: the PDU is cut and the
MBAP length says so); 92: garbage bytes before the good answer; 93: garbage only (RTU).
"""
import argparse
import os
import select
import socket
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.exceptions import NoSuchSlaveException
from pymodbus.factory import ServerDecoder
from pymodbus.pdu import ModbusExceptions
from pymodbus.transaction import ModbusRtuFramer, ModbusSocketFramer

SIZE = 100


class LoggingSlave(ModbusSlaveContext):
    def setValues(self, fc_as_hex, address, values):
        super().setValues(fc_as_hex, address, values)
        print(f"SET {fc_as_hex} {address} {','.join(str(int(v)) for v in values)}", flush=True)


def slave(unit):
    block = lambda base: ModbusSequentialDataBlock(0, [(base + i) & 0xFFFF for i in range(SIZE)])
    return LoggingSlave(di=ModbusSequentialDataBlock(0, [0] * SIZE), co=ModbusSequentialDataBlock(0, [0] * SIZE),
                        hr=block(unit * 1000), ir=block(unit * 1000 + 500), zero_mode=True)


GARBAGE = bytes([0xFF, 0x00, 0x13, 0x37, 0xDE, 0xAD])


class Device:
    def __init__(self, units, framer_class, write, faults=False):
        self.context = ModbusServerContext(slaves={u: slave(u) for u in units}, single=False)
        self.units = list(units)
        self.framer = framer_class(ServerDecoder())
        self.write = write
        self.faults = faults
        self.rtu = framer_class is ModbusRtuFramer

    def damage(self, request, packet):
        fault = getattr(request, "address", None) if self.faults and request.function_code == 3 else None
        if fault == 90 and self.rtu:
            return packet[:-1] + bytes([packet[-1] ^ 0x5A])
        if fault == 91:
            if self.rtu:
                return packet[: len(packet) - 4]
            pdu = packet[7:-2]  # MBAP header (7 bytes), then the PDU cut by two bytes
            return packet[:4] + (len(pdu) + 1).to_bytes(2, "big") + packet[6:7] + pdu
        if fault == 92:
            return GARBAGE + packet
        if fault == 93 and self.rtu:
            return GARBAGE + GARBAGE
        return packet

    def feed(self, data):
        self.framer.processIncomingPacket(data, self.execute, unit=self.units, single=False)

    def execute(self, request):
        try:
            response = request.execute(self.context[request.unit_id])
        except NoSuchSlaveException:
            return  # a silent unit
        except Exception:  # the datastore failed: what a device says then
            response = request.doException(ModbusExceptions.SlaveFailure)
        response.transaction_id = request.transaction_id
        response.unit_id = request.unit_id
        self.write(self.damage(request, self.framer.buildPacket(response)))


def serve_tcp(args, units):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(8)
    print(f"READY {listener.getsockname()[1]}", flush=True)
    clients = {}
    while True:
        ready, _, _ = select.select([listener, sys.stdin, *clients], [], [])
        for s in ready:
            if s is sys.stdin:
                if not os.read(sys.stdin.fileno(), 1024):
                    return  # the test went away
            elif s is listener:
                conn, _ = listener.accept()
                clients[conn] = Device(units, ModbusSocketFramer, conn.sendall, args.faults)
            else:
                data = s.recv(4096)
                if data:
                    clients[s].feed(data)
                else:
                    del clients[s]
                    s.close()


def serve_serial(args, units):
    fd = os.open(args.serial, os.O_RDWR | os.O_NOCTTY)
    device = Device(units, ModbusRtuFramer, lambda packet: os.write(fd, packet), args.faults)
    print("READY 0", flush=True)
    while True:
        ready, _, _ = select.select([fd, sys.stdin], [], [])
        if sys.stdin in ready and not os.read(sys.stdin.fileno(), 1024):
            return
        if fd in ready:
            device.feed(os.read(fd, 4096))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tcp", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--serial")
    parser.add_argument("--units", default="1")
    parser.add_argument("--faults", action="store_true")
    args = parser.parse_args()
    units = [int(u) for u in args.units.split(",")]
    if args.serial:
        serve_serial(args, units)
    else:
        serve_tcp(args, units)


if __name__ == "__main__":
    main()
