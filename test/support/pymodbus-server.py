#!/usr/bin/python3
"""A Modbus server from pymodbus (Debian python3-pymodbus 3.0), as a peer this
project did not write: pymodbus frames, checks, decodes and answers every
request; this script only moves bytes.

    pymodbus-server.py tcp <units>                 listens on 127.0.0.1, a free port
    pymodbus-server.py rtu <units> <path> <baud>   Modbus RTU on a serial device (one side of a pty pair)

<units>: comma-separated unit ids that answer; holding and input register
<address> of unit <u> hold (u * 1000 + address) & 0xffff for addresses 0..999.
Every other unit id gets no answer at all, like a switched-off meter behind a
gateway or on a bus. Prints "ready <port>" (tcp) or "ready" (rtu) on stdout.

pymodbus's own server module imports pyserial and serial_asyncio, which the
Debian package only recommends; so the sockets and the pty are served here with
asyncio and os.read, and each request goes through pymodbus's framers
(ModbusSocketFramer, ModbusRtuFramer), request decoder and datastore.
"""
import asyncio
import logging
import os
import sys
import termios
import tty

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.factory import ServerDecoder
from pymodbus.framer.rtu_framer import ModbusRtuFramer
from pymodbus.framer.socket_framer import ModbusSocketFramer

logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


def context(units):
    slaves = {}
    for unit in units:
        values = [(unit * 1000 + a) & 0xFFFF for a in range(1000)]
        slaves[unit] = ModbusSlaveContext(
            hr=ModbusSequentialDataBlock(0, list(values)),
            ir=ModbusSequentialDataBlock(0, list(values)),
            co=ModbusSequentialDataBlock(0, [0] * 1000),
            di=ModbusSequentialDataBlock(0, [0] * 1000),
            zero_mode=True,
        )
    return ModbusServerContext(slaves=slaves, single=False)


def responder(ctx, framer, write):
    """Executes one decoded request on the datastore and writes pymodbus's framed answer."""

    def answer(request):
        try:
            response = request.execute(ctx[request.unit_id])
        except Exception:  # pylint: disable=broad-except
            return  # no such unit: no answer at all
        response.unit_id = request.unit_id
        response.transaction_id = request.transaction_id
        write(framer.buildPacket(response))

    return answer


async def serve_tcp(units):
    ctx = context(units)

    async def client(reader, writer):
        framer = ModbusSocketFramer(ServerDecoder())
        answer = responder(ctx, framer, writer.write)
        while True:
            data = await reader.read(4096)
            if not data:
                break
            framer.processIncomingPacket(data, answer, list(units), single=False)
        writer.close()

    server = await asyncio.start_server(client, "127.0.0.1", 0)
    print(f"ready {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


BAUD = {1200: termios.B1200, 2400: termios.B2400, 4800: termios.B4800, 9600: termios.B9600,
        19200: termios.B19200, 38400: termios.B38400, 57600: termios.B57600, 115200: termios.B115200}


async def serve_rtu(units, path, baud):
    ctx = context(units)
    framer = ModbusRtuFramer(ServerDecoder())
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    attrs[4] = attrs[5] = BAUD[baud]
    termios.tcsetattr(fd, termios.TCSANOW, attrs)

    answer = responder(ctx, framer, lambda packet: os.write(fd, packet))

    def readable():
        try:
            data = os.read(fd, 512)
        except BlockingIOError:
            return
        if data:
            framer.processIncomingPacket(data, answer, list(units))

    asyncio.get_running_loop().add_reader(fd, readable)
    print("ready", flush=True)
    await asyncio.Event().wait()


def main():
    kind, units = sys.argv[1], [int(u) for u in sys.argv[2].split(",")]
    if kind == "tcp":
        asyncio.run(serve_tcp(units))
    elif kind == "rtu":
        asyncio.run(serve_rtu(units, sys.argv[3], int(sys.argv[4])))
    else:
        sys.exit(f"unknown kind {kind}: tcp or rtu")


if __name__ == "__main__":
    main()
